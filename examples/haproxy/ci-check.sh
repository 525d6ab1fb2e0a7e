#!/bin/sh
# CI step for a haproxy.cfg: evenkeel judges the traffic it would send where (exit 1: refused),
# then HAProxy checks that it would start. Usage: ci-check.sh [haproxy.cfg] [guardrails.yaml]
set -e
cfg=${1:-haproxy.cfg}
guard=${2:-guardrails.yaml}
evenkeel validate "$cfg" --guardrails "$guard"
haproxy -c -f "$cfg"
