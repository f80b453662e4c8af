#!/bin/sh
# rpm-ostree runs postprocess-script after the inline scripts.
set -e
test -e /usr/share/mxos-hello/inline-ran
echo "script ran" > /usr/share/mxos-hello/script-ran
