#!/bin/sh
# wrk, the HTTP load generator of `make bench`, from Debian's (or Ubuntu's) packages.
set -e
command -v wrk >/dev/null 2>&1 && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y -q wrk || { $SUDO apt-get update -q && $SUDO apt-get install -y -q wrk; }
