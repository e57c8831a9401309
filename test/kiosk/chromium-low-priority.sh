#!/bin/sh
exec "${CHROMIUM_PATH:-/usr/bin/chromium}" "$@"
