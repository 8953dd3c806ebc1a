// k6 script: order creation at a constant arrival rate (open model).
//
// NOT RUN IN THIS PROJECT'S OWN BENCHMARK: k6 (go.k6.io/k6) is AGPL-licensed
// and the Go module proxy we use marks it "not-to-use", so the project does
// not install it. `make bench` drives the same scenarios with its own C load
// generator (loadtest/loadgen, see docs/benchmarks.md). This file is for users
// who already have k6:
//
//   k6 run -e SCENARIO=1000 -e BASE_URL=http://127.0.0.1:8081 \
//          --out json=run/k6-1000.json loadtest/order-creation.js
//
// SCENARIO: 100 | 500 | 1000 (orders/s) or "all" (the three in sequence);
// DURATION (default 5m); PRODUCTS (100000) and USERS (10000) must match what
// `build/bin/seed --products N --users M --stock 1000000` put in the
// databases. Products are drawn from a Zipf-like spread (ZIPF_S, 0.8; 0 =
// uniform) over P000000001..N, users uniformly over U000000001..M.
//
// Orders are placed by their users: each request carries the customer token
// of the userId in its body, signed HS256 with JWT_SECRET (required: the
// stack's key, e.g. -e JWT_SECRET="$(cat run/secrets/jwt)"), cached per user
// for the VU's life (a day's validity).
//
// The HTTP response is not the order's completion: that is create ->
// CONFIRMED/CANCELLED, which scripts/bench.sh reads from the order database.
// The thresholds below hold the HTTP side; the saga KPIs (completion avg < 1 s,
// p99 < 2 s, >= 99.9 % confirmed) are checked by loadtest/report.py.
import http from 'k6/http';
import { check } from 'k6';
import crypto from 'k6/crypto';
import encoding from 'k6/encoding';
import { Counter } from 'k6/metrics';

const BASE_URL = __ENV.BASE_URL || 'http://127.0.0.1:8081';
const DURATION = __ENV.DURATION || '5m';
const PRODUCTS = parseInt(__ENV.PRODUCTS || '100000', 10);
const USERS = parseInt(__ENV.USERS || '10000', 10);
const ZIPF_S = parseFloat(__ENV.ZIPF_S || '0.8');
const SCENARIO = __ENV.SCENARIO || '1000';
const JWT_SECRET = __ENV.JWT_SECRET || '';
const TOKEN_TTL_S = 86400;
if (JWT_SECRET.length < 32) {
    throw new Error('JWT_SECRET (the HS256 key the services verify tokens with, >= 32 bytes) is not set');
}

const accepted = new Counter('orders_accepted');

function arrival(rate, startTime) {
    return {
        executor: 'constant-arrival-rate',
        rate: rate,
        timeUnit: '1s',
        duration: DURATION,
        startTime: startTime,
        preAllocatedVUs: Math.max(50, rate / 2),
        maxVUs: rate * 4, // in flight grows when the system slows; arrivals never do
        tags: { rate: String(rate) },
    };
}

function scenarios() {
    if (SCENARIO === 'all') {
        const mins = parseInt(DURATION, 10) + 1;
        return {
            rate_100: arrival(100, '0s'),
            rate_500: arrival(500, `${mins}m`),
            rate_1000: arrival(1000, `${2 * mins}m`),
        };
    }
    const rate = parseInt(SCENARIO, 10);
    return { [`rate_${rate}`]: arrival(rate, '0s') };
}

export const options = {
    scenarios: scenarios(),
    discardResponseBodies: false,
    thresholds: {
        // the API answers fast even when the saga is slow: 202 in well under a second
        'http_req_duration{expected_response:true}': ['p(95)<500', 'p(99)<1000'],
        http_req_failed: ['rate<0.001'],   // >= 99.9 % accepted
        dropped_iterations: ['count<1'],   // the arrival rate was held
        checks: ['rate>0.999'],
    },
};

// Zipf-like cumulative weights over the catalogue, built once per VU
const cdf = (() => {
    if (ZIPF_S <= 0) return null;
    const w = new Float64Array(PRODUCTS);
    let sum = 0;
    for (let k = 0; k < PRODUCTS; k++) {
        sum += 1 / Math.pow(k + 1, ZIPF_S);
        w[k] = sum;
    }
    for (let k = 0; k < PRODUCTS; k++) w[k] /= sum;
    return w;
})();

function pickProduct() {
    if (!cdf) return 1 + Math.floor(Math.random() * PRODUCTS);
    const u = Math.random();
    let lo = 0, hi = PRODUCTS - 1;
    while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cdf[mid] > u) hi = mid; else lo = mid + 1;
    }
    return lo + 1;
}

const pad = (n) => String(n).padStart(9, '0');

// "Bearer <token>" of a customer (svc/auth.h claims: sub, roles, iat, exp)
const tokens = {};
function bearer(userId) {
    if (tokens[userId]) return tokens[userId];
    const now = Math.floor(Date.now() / 1000);
    const part = (obj) => encoding.b64encode(JSON.stringify(obj), 'rawurl');
    const signing = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({
        sub: userId, roles: ['customer'], iat: now, exp: now + TOKEN_TTL_S })}`;
    tokens[userId] = `Bearer ${signing}.${crypto.hmac('sha256', JWT_SECRET, signing, 'base64rawurl')}`;
    return tokens[userId];
}

export default function () {
    const userId = `U${pad(1 + Math.floor(Math.random() * USERS))}`;
    const body = JSON.stringify({
        userId: userId,
        items: [{ productId: `P${pad(pickProduct())}`, quantity: 1 + Math.floor(Math.random() * 2) }],
    });
    const res = http.post(`${BASE_URL}/api/orders`, body, {
        headers: { 'Content-Type': 'application/json', Authorization: bearer(userId) },
    });
    const ok = check(res, {
        'status is 202': (r) => r.status === 202,
        'has orderId': (r) => r.status === 202 && !!r.json('orderId'),
    });
    if (ok) accepted.add(1);
}
