#!/bin/sh
# HAProxy Data Plane API `validate_cmd`: runs on every transaction before it is committed.
# The API runs this without a shell or PATH and passes the candidate file in
# $DATAPLANEAPI_TRANSACTION_FILE; any exit code but 0 rejects the transaction, and what is
# written to stderr becomes the API's error message. evenkeel exits 1 when it refuses the
# config and 2 when it cannot read it; both reject. Then HAProxy's own check runs.
EVENKEEL=${EVENKEEL:-/usr/local/bin/evenkeel}
HAPROXY=${HAPROXY:-/usr/sbin/haproxy}
GUARDRAILS=${GUARDRAILS:-/etc/haproxy/evenkeel-guardrails.yaml}
file=$DATAPLANEAPI_TRANSACTION_FILE
[ -n "$file" ] || { echo "DATAPLANEAPI_TRANSACTION_FILE is not set" >&2; exit 2; }
# The transaction file has no .cfg name, so the format is given; findings go to stderr.
$EVENKEEL validate "$file" --from haproxy --guardrails "$GUARDRAILS" 1>&2 || exit $?
exec $HAPROXY -c -f "$file"
