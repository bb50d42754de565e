#!/usr/bin/env bash
# The bounce-mailbox tests poll a real IMAP and POP3 server: Debian's dovecot,
# started privately by the test fixture (tests/support/dovecot.py). Install it
# when missing and we may; without it those tests are skipped with a reason.
set -euo pipefail
if [ -x /usr/sbin/dovecot ] && [ -d /usr/lib/dovecot ] \
  && ls /usr/lib/dovecot/imap /usr/lib/dovecot/pop3 >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's dovecot (IMAP and POP3) for the bounce-mailbox tests..."
  apt-get update -qq
  # The package's own service is not needed (tests start dovecot with their own
  # configuration on free loopback ports), so a running one does no harm either.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd dovecot-pop3d >/dev/null
else
  echo "dovecot is not installed; mailbox poller tests will be skipped" \
    "(install Debian's 'dovecot-imapd' and 'dovecot-pop3d')." >&2
fi
