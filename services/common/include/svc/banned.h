/*
 * Functions that are easy to misuse, made compile errors (after git's banned.h).
 * Force-included into every translation unit by the Makefile, after which any
 * use of these names fails to compile. Use snprintf, strtol/strtoll with end
 * checks, memcpy with explicit lengths, strtok_r.
 */
#ifndef SVC_BANNED_H
#define SVC_BANNED_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) BANNED(strncat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef atoi
#define atoi(x) BANNED(atoi)
#undef atol
#define atol(x) BANNED(atol)
#undef atoll
#define atoll(x) BANNED(atoll)
#undef gets
#define gets(x) BANNED(gets)

#endif
