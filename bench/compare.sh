#!/usr/bin/env bash
# The foundation benchmark: SET/GET/INCR/MSET, 50 clients, 200k requests, then -P 16.
exec python3 "$(dirname "$0")/compare.py" --tests set,get,incr,mset -n 200000 -c 50 --pipeline 1,16 "$@"
