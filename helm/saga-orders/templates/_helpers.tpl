{{/*
Names, labels and the parts the four services share.
*/}}

{{/* The chart name (app.kubernetes.io/name). */}}
{{- define "saga-orders.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The prefix of every object name: the release name (objects are <fullname>-<component>,
e.g. saga-order for release "saga").
*/}}
{{- define "saga-orders.fullname" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{/* helm.sh/chart label value. */}}
{{- define "saga-orders.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Labels of an object. Call with (dict "root" $ "component" "order").
*/}}
{{- define "saga-orders.labels" -}}
helm.sh/chart: {{ include "saga-orders.chart" .root }}
{{ include "saga-orders.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: saga-orders
{{- end -}}

{{/*
Selector labels of a component. Call with (dict "root" $ "component" "order").
*/}}
{{- define "saga-orders.selectorLabels" -}}
app.kubernetes.io/name: {{ include "saga-orders.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/*
An image reference registry/repository:tag; the tag defaults to the chart's appVersion.
Call with (dict "root" $ "image" .Values.order.image).
*/}}
{{- define "saga-orders.image" -}}
{{- $tag := .image.tag | default .root.Chart.AppVersion | toString -}}
{{- if .image.registry -}}
{{- printf "%s/%s:%s" .image.registry .image.repository $tag -}}
{{- else -}}
{{- printf "%s:%s" .image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/*
Environment entries from a map: "base" (what the chart computes) with "override" (a
values env map) on top; entries sorted by name. Values are rendered as strings.
Call with (dict "base" (dict "HTTP_PORT" 8081) "override" .Values.order.env).
*/}}
{{- define "saga-orders.envVars" -}}
{{- $env := merge (deepCopy (default dict .override)) .base -}}
{{- $vars := list -}}
{{- range $name, $value := $env -}}
{{- $vars = append $vars (dict "name" $name "value" (toString $value)) -}}
{{- end -}}
{{- toYaml $vars -}}
{{- end -}}

{{/*
A PodDisruptionBudget body: minAvailable 1 when the component runs more than one pod,
else maxUnavailable 1 (a single pod may be evicted). Call with (dict "root" $
"component" "order" "replicas" 2).
*/}}
{{- define "saga-orders.pdb" -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "saga-orders.fullname" .root }}-{{ .component }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "saga-orders.labels" . | nindent 4 }}
spec:
  {{- if gt (int .replicas) 1 }}
  minAvailable: 1
  {{- else }}
  maxUnavailable: 1
  {{- end }}
  selector:
    matchLabels:
      {{- include "saga-orders.selectorLabels" . | nindent 6 }}
{{- end -}}

{{/* ---------------------------------------------------------------- Kafka */}}

{{/* The bootstrap address every client uses: the client Service. */}}
{{- define "saga-orders.kafkaBrokers" -}}
{{- include "saga-orders.fullname" . }}-kafka:9092
{{- end -}}

{{/* Replication factor of every topic: min(3, kafka.replicas). */}}
{{- define "saga-orders.kafkaReplication" -}}
{{- min 3 (int .Values.kafka.replicas) -}}
{{- end -}}

{{/* min.insync.replicas: 2 with 3 or more brokers, else 1. */}}
{{- define "saga-orders.kafkaMinInsync" -}}
{{- if ge (int .Values.kafka.replicas) 3 }}2{{ else }}1{{ end -}}
{{- end -}}

{{/* DNS name of broker N's pod through the headless Service, without the port. */}}
{{- define "saga-orders.kafkaPodHost" -}}
{{- $fullname := include "saga-orders.fullname" .root -}}
{{- printf "%s-kafka-%d.%s-kafka-headless.%s.svc.%s" $fullname (int .index) $fullname .root.Release.Namespace .root.Values.clusterDomain -}}
{{- end -}}

{{/*
Kafka's listener addresses: with kafka.auth.enabled every one authenticates (SASL_PLAINTEXT):
  CLIENT       9092   the clients (SCRAM-SHA-512, one principal each)
  CONTROLLER   9093   the KRaft quorum, broker -> controller (PLAIN, User:admin)
  INTERNAL     9094   broker -> broker replication and the setup Job (PLAIN, User:admin)
  PORTFORWARD 19092   clients behind `kubectl port-forward`, advertised as localhost (SCRAM)
*/}}
{{- define "saga-orders.kafkaInternalBrokers" -}}
{{- include "saga-orders.fullname" . }}-kafka-headless:9094
{{- end -}}

{{/* controller.quorum.voters: id@host:9093 for every broker (node id = pod index). */}}
{{- define "saga-orders.kafkaQuorumVoters" -}}
{{- $voters := list -}}
{{- range $i := until (int .Values.kafka.replicas) -}}
{{- $voters = append $voters (printf "%d@%s:9093" $i (include "saga-orders.kafkaPodHost" (dict "root" $ "index" $i))) -}}
{{- end -}}
{{- join "," $voters -}}
{{- end -}}

{{/* ---------------------------------------------------------------- the four services */}}

{{/*
A service's public port (scripts/stack.sh): its sidecar listens on this + 1000, its
internal listener for the sidecar (127.0.0.1) on this + 2000.
*/}}
{{- define "saga-orders.httpPort" -}}
{{- get (dict "order" "8081" "payment" "8082" "inventory" "8083" "notification" "8084") . -}}
{{- end -}}

{{/* The topics a service's sidecar consumes (scripts/stack.sh, SUBSCRIBE). */}}
{{- define "saga-orders.subscribeTopics" -}}
{{- get (dict
      "order" "inventory.events,payment.events,notification.events"
      "inventory" "order.events,inventory.commands"
      "payment" "payment.commands,order.events"
      "notification" "order.events") . -}}
{{- end -}}

{{/*
The topics a service produces (its outbox: services/<name>/emit.c, consumer.c, process.c,
notify.c), besides its DLQ <service>.dlq. With Kafka ACLs it may create and write only
these, and creates them in its create-topics init container (CREATE_TOPICS).
*/}}
{{- define "saga-orders.produceTopics" -}}
{{- get (dict
      "order" "order.events,inventory.commands,payment.commands"
      "inventory" "inventory.events"
      "payment" "payment.events"
      "notification" "notification.events") . -}}
{{- end -}}

{{/*
The principals of Kafka's clients, each with a SCRAM-SHA-512 credential and a key
<name>-password in Secret <fullname>-kafka; admin is also the brokers' own (PLAIN).
*/}}
{{- define "saga-orders.kafkaUsers" -}}
admin order inventory payment notification kafdrop console
{{- end -}}

{{/*
The ACLs of the release, one per line: PRINCIPAL RESOURCE_TYPE PATTERN_TYPE NAME OPERATION
(the names kafka-acls.sh --list prints). docs/kubernetes.md, "Kafka security", explains them.
Each service:
  - the topics it produces: WRITE, DESCRIBE, CREATE (create-topics creates them);
  - its DLQ <service>.dlq: that and READ (the sidecar's DLQ listing and re-drive);
  - the topics it subscribes to: READ, DESCRIBE, and WRITE with kafka.auth.dlqRedrive
    (a re-driven dead letter goes back to the topic it came from);
  - its consumer group <service>-service and the DLQ reader's <service>-sidecar-dlq-reader:
    READ;
  - the cluster: IDEMPOTENT_WRITE (the sidecar's producer is idempotent).
The console (when enabled): DESCRIBE on every topic (metadata, end offsets) and every group
(committed offsets), nothing it could read messages or change anything with.
Kafdrop (when enabled), read-only: every topic READ, DESCRIBE, DESCRIBE_CONFIGS; every group
DESCRIBE (its consumer assigns partitions, it joins no group); the cluster DESCRIBE,
DESCRIBE_CONFIGS (brokers, ACLs).
*/}}
{{- define "saga-orders.kafkaAcls" -}}
{{- $root := . -}}
{{- range $svc := list "order" "inventory" "payment" "notification" }}
{{- range $topic := splitList "," (include "saga-orders.produceTopics" $svc) }}
{{- range $op := list "WRITE" "DESCRIBE" "CREATE" }}
{{ $svc }} TOPIC LITERAL {{ $topic }} {{ $op }}
{{- end }}
{{- end }}
{{- range $op := list "WRITE" "DESCRIBE" "CREATE" "READ" }}
{{ $svc }} TOPIC LITERAL {{ $svc }}.dlq {{ $op }}
{{- end }}
{{- range $topic := splitList "," (include "saga-orders.subscribeTopics" $svc) }}
{{ $svc }} TOPIC LITERAL {{ $topic }} READ
{{ $svc }} TOPIC LITERAL {{ $topic }} DESCRIBE
{{- if $root.Values.kafka.auth.dlqRedrive }}
{{ $svc }} TOPIC LITERAL {{ $topic }} WRITE
{{- end }}
{{- end }}
{{ $svc }} GROUP LITERAL {{ $svc }}-service READ
{{ $svc }} GROUP LITERAL {{ $svc }}-sidecar-dlq-reader READ
{{ $svc }} CLUSTER LITERAL kafka-cluster IDEMPOTENT_WRITE
{{- end }}
{{- if .Values.console.enabled }}
console TOPIC LITERAL * DESCRIBE
console GROUP LITERAL * DESCRIBE
{{- end }}
{{- if .Values.kafdrop.enabled }}
{{- range $op := list "READ" "DESCRIBE" "DESCRIBE_CONFIGS" }}
kafdrop TOPIC LITERAL * {{ $op }}
{{- end }}
kafdrop GROUP LITERAL * DESCRIBE
kafdrop CLUSTER LITERAL kafka-cluster DESCRIBE
kafdrop CLUSTER LITERAL kafka-cluster DESCRIBE_CONFIGS
{{- end }}
{{- end -}}

{{/*
The client settings of a principal (kafkaconf.h's names): a dict, empty without
kafka.auth.enabled. The password comes from saga-orders.kafkaPasswordEnv.
*/}}
{{- define "saga-orders.kafkaClientEnv" -}}
{{- if .root.Values.kafka.auth.enabled -}}
{{- toYaml (dict
      "KAFKA_SECURITY_PROTOCOL" "SASL_PLAINTEXT"
      "KAFKA_SASL_MECHANISM" "SCRAM-SHA-512"
      "KAFKA_SASL_USERNAME" .user) -}}
{{- else -}}
{}
{{- end -}}
{{- end -}}

{{/*
KAFKA_SASL_PASSWORD of a principal from Secret <fullname>-kafka, as an env list entry;
nothing without kafka.auth.enabled or when `override` (an env map) sets the password.
Call with (dict "root" $ "user" "order" "override" $map).
*/}}
{{- define "saga-orders.kafkaPasswordEnv" -}}
{{- if and .root.Values.kafka.auth.enabled (not (hasKey .override "KAFKA_SASL_PASSWORD")) (not (hasKey .override "KAFKA_SASL_PASSWORD_FILE")) -}}
- name: KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "saga-orders.fullname" .root }}-kafka
      key: {{ .user }}-password
{{- end }}
{{- end -}}

{{/*
JWT_SECRET from Secret <fullname>-auth, as an env list entry; nothing when `override` (an
env map) sets it. Call with (dict "root" $ "override" $map).
*/}}
{{- define "saga-orders.jwtSecretEnv" -}}
{{- if not (hasKey .override "JWT_SECRET") -}}
- name: JWT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ include "saga-orders.fullname" .root }}-auth
      key: jwt-secret
{{- end }}
{{- end -}}

{{/*
A sidecar's EGRESS_ROUTES (scripts/stack.sh, egress_routes): name=url,...
Call with (dict "root" $ "name" "order").
*/}}
{{- define "saga-orders.egressRoutes" -}}
{{- $fullname := include "saga-orders.fullname" .root -}}
{{- if eq .name "order" -}}
inventory=http://{{ $fullname }}-inventory:8083
{{- else if eq .name "payment" -}}
gateway=http://{{ $fullname }}-gateway-sim:8089
{{- else if and (eq .name "notification") .root.Values.notification.webhookUrl -}}
webhook={{ .root.Values.notification.webhookUrl }}
{{- end -}}
{{- end -}}

{{/*
The pod spec of one of the four services (order, payment, inventory, notification):
  1. init container create-topics: `sidecar create-topics --wait 300`: creates the topics
     the service produces, waits for Kafka and for the topics it consumes;
  2. the resilience sidecar as a native sidecar (init container, restartPolicy Always):
     started (startupProbe on /health/live) before the service, stopped after it;
  3. the service.
The service and its sidecar share /run/saga (the outbox wake socket). Both get the DB_*
of the service's database and JWT_SECRET; the sidecar and create-topics get the Kafka
principal of the service (KAFKA_SASL_USERNAME=<service>, its password only). Environment
names and values as scripts/stack.sh proc_env.
Call with (dict "root" $ "name" "order").
*/}}
{{/*
Prometheus scrape annotations of a service's pod (metrics.podAnnotations): the service's own
/metrics on its HTTP port. The sidecar's /metrics, on the port + 1000, is scraped through the
ServiceMonitor (metrics.serviceMonitor) or a scrape job of its own. Call with
(dict "root" $ "name" "order").
*/}}
{{- define "saga-orders.metricsAnnotations" -}}
{{- if .root.Values.metrics.podAnnotations }}
annotations:
  prometheus.io/scrape: "true"
  prometheus.io/port: {{ include "saga-orders.httpPort" .name | quote }}
  prometheus.io/path: /metrics
  saga-orders/sidecar-metrics-port: {{ add (include "saga-orders.httpPort" .name | int) 1000 | quote }}
{{- end }}
{{- end -}}

{{- define "saga-orders.servicePodSpec" -}}
{{- $root := .root -}}
{{- $name := .name -}}
{{- $values := index $root.Values $name -}}
{{- $fullname := include "saga-orders.fullname" $root -}}
{{- $httpPort := include "saga-orders.httpPort" $name | int -}}
{{- $sidecarPort := add $httpPort 1000 -}}
{{- $internalPort := add $httpPort 2000 -}}
{{- $wakeSocket := printf "/run/saga/%s.wake" $name -}}
{{- $probes := $root.Values.serviceProbes -}}
{{- /* env precedence: the service's own map, then the one all four share, then the chart's */ -}}
{{- $serviceOverride := merge (deepCopy (default dict $values.env)) (deepCopy (default dict $root.Values.serviceEnv)) -}}
{{- $sidecarOverride := merge (deepCopy (default dict $values.sidecar.env)) (deepCopy (default dict $root.Values.sidecar.env)) -}}
{{- $db := dict
      "DB_HOST" (printf "%s-mysql" $fullname)
      "DB_PORT" "3306"
      "DB_USER" $name
      "DB_NAME" (printf "%s_db" $name) -}}
{{- $kafkaClient := include "saga-orders.kafkaClientEnv" (dict "root" $root "user" $name) | fromYaml -}}
{{- $sidecarEnv := merge (dict
      "SERVICE_NAME" $name
      "SIDECAR_PORT" $sidecarPort
      "SERVICE_URL" (printf "http://127.0.0.1:%d" $internalPort)
      "KAFKA_BROKERS" (include "saga-orders.kafkaBrokers" $root)
      "SUBSCRIBE_TOPICS" (include "saga-orders.subscribeTopics" $name)
      "OUTBOX_WAKE_SOCKET" $wakeSocket
      "EGRESS_ROUTES" (include "saga-orders.egressRoutes" (dict "root" $root "name" $name))) $db (deepCopy $kafkaClient) -}}
{{- $serviceEnv := merge (dict
      "SERVICE_NAME" $name
      "HTTP_PORT" $httpPort
      "INTERNAL_HTTP_PORT" $internalPort
      "SIDECAR_URL" (printf "http://127.0.0.1:%d" $sidecarPort)
      "OUTBOX_WAKE_SOCKET" $wakeSocket) $db -}}
{{- if eq $name "inventory" -}}
{{- $_ := set $serviceEnv "REDIS_HOST" (printf "%s-redis" $fullname) -}}
{{- $_ := set $serviceEnv "REDIS_PORT" "6379" -}}
{{- end -}}
{{- /* create-topics creates what the service produces and waits for what it consumes */ -}}
{{- $topicsEnv := merge (dict
      "SERVICE_NAME" $name
      "KAFKA_BROKERS" (include "saga-orders.kafkaBrokers" $root)
      "CREATE_TOPICS" (printf "%s,%s.dlq" (include "saga-orders.produceTopics" $name) $name)
      "SUBSCRIBE_TOPICS" (include "saga-orders.subscribeTopics" $name)
      "TOPIC_REPLICATION" (include "saga-orders.kafkaReplication" $root)) (deepCopy $kafkaClient) -}}
{{- $topicsOverride := default dict $root.Values.createTopics.env -}}
{{- $sidecarImage := include "saga-orders.image" (dict "root" $root "image" $root.Values.sidecar.image) -}}
automountServiceAccountToken: false
enableServiceLinks: false
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml $root.Values.podSecurityContext | nindent 2 }}
initContainers:
  - name: create-topics
    image: {{ $sidecarImage }}
    imagePullPolicy: {{ $root.Values.sidecar.image.pullPolicy }}
    args: ["create-topics", "--wait", "300"]
    env:
      {{- include "saga-orders.kafkaPasswordEnv" (dict "root" $root "user" $name "override" $topicsOverride) | nindent 6 }}
      {{- include "saga-orders.jwtSecretEnv" (dict "root" $root "override" $topicsOverride) | nindent 6 }}
      {{- include "saga-orders.envVars" (dict "base" $topicsEnv "override" $topicsOverride) | nindent 6 }}
    securityContext:
      {{- toYaml $root.Values.containerSecurityContext | nindent 6 }}
    resources:
      {{- toYaml $root.Values.createTopics.resources | nindent 6 }}
  - name: sidecar
    image: {{ $sidecarImage }}
    imagePullPolicy: {{ $root.Values.sidecar.image.pullPolicy }}
    restartPolicy: Always
    ports:
      - name: sidecar
        containerPort: {{ $sidecarPort }}
        protocol: TCP
    env:
      {{- if not (hasKey $sidecarOverride "DB_PASSWORD") }}
      - name: DB_PASSWORD
        valueFrom:
          secretKeyRef:
            name: {{ $fullname }}-db
            key: {{ $name }}-password
      {{- end }}
      {{- include "saga-orders.kafkaPasswordEnv" (dict "root" $root "user" $name "override" $sidecarOverride) | nindent 6 }}
      {{- include "saga-orders.jwtSecretEnv" (dict "root" $root "override" $sidecarOverride) | nindent 6 }}
      {{- include "saga-orders.envVars" (dict "base" $sidecarEnv "override" $sidecarOverride) | nindent 6 }}
    # /health/live only: the sidecar's /health/ready needs the service, which starts after
    # this probe passed
    startupProbe:
      httpGet:
        path: /health/live
        port: sidecar
      {{- toYaml $probes.startup | nindent 6 }}
    livenessProbe:
      httpGet:
        path: /health/live
        port: sidecar
      {{- toYaml $probes.liveness | nindent 6 }}
    # Kafka reported, not required: a broker restart must not take every pod out of its
    # Service (the service keeps taking requests; its events wait in the outbox)
    readinessProbe:
      httpGet:
        path: /health/ready?kafka=optional
        port: sidecar
      {{- toYaml $probes.readiness | nindent 6 }}
    securityContext:
      {{- toYaml $root.Values.containerSecurityContext | nindent 6 }}
    resources:
      {{- toYaml $root.Values.sidecar.resources | nindent 6 }}
    volumeMounts:
      - name: run-saga
        mountPath: /run/saga
      - name: tmp
        mountPath: /tmp
containers:
  - name: {{ $name }}
    image: {{ include "saga-orders.image" (dict "root" $root "image" $values.image) }}
    imagePullPolicy: {{ $values.image.pullPolicy }}
    ports:
      - name: http
        containerPort: {{ $httpPort }}
        protocol: TCP
    env:
      {{- if not (hasKey $serviceOverride "DB_PASSWORD") }}
      - name: DB_PASSWORD
        valueFrom:
          secretKeyRef:
            name: {{ $fullname }}-db
            key: {{ $name }}-password
      {{- end }}
      {{- include "saga-orders.jwtSecretEnv" (dict "root" $root "override" $serviceOverride) | nindent 6 }}
      {{- include "saga-orders.envVars" (dict "base" $serviceEnv "override" $serviceOverride) | nindent 6 }}
    startupProbe:
      httpGet:
        path: /health/live
        port: http
      {{- toYaml $probes.startup | nindent 6 }}
    livenessProbe:
      httpGet:
        path: /health/live
        port: http
      {{- toYaml $probes.liveness | nindent 6 }}
    readinessProbe:
      httpGet:
        path: /health/ready
        port: http
      {{- toYaml $probes.readiness | nindent 6 }}
    securityContext:
      {{- toYaml $root.Values.containerSecurityContext | nindent 6 }}
    resources:
      {{- toYaml $values.resources | nindent 6 }}
    volumeMounts:
      - name: run-saga
        mountPath: /run/saga
      - name: tmp
        mountPath: /tmp
volumes:
  - name: run-saga
    emptyDir: {}
  - name: tmp
    emptyDir: {}
{{- end -}}

{{/*
MySQL's /etc/mysql/conf.d/saga.cnf (ConfigMap <fullname>-mysql; its checksum restarts the pod
when it changes). Valid for MySQL 8.0 and MariaDB 10.11.
*/}}
{{- define "saga-orders.mysqlConfig" -}}
[mysqld]
character-set-server = utf8mb4
collation-server = utf8mb4_general_ci
# the slow query log (the container's stderr is the error log; this goes to the data dir)
slow_query_log = 1
slow_query_log_file = slow.log
long_query_time = {{ .Values.mysql.slowQueryTime }}
# the services' client (libmariadb) authenticates with mysql_native_password;
# MariaDB ignores loose- options it does not know
loose-default-authentication-plugin = mysql_native_password
# the test-data generator (make k8s-load) streams rows with LOAD DATA LOCAL INFILE:
# MariaDB allows it by default, MySQL 8.0 does not
local_infile = 1
{{- range $option, $value := .Values.mysql.config }}
{{ $option }} = {{ $value }}
{{- end }}
{{- end -}}
