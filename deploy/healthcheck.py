"""Container health check: /healthz answers on the webhook port (webhook mode) or the ops port."""

import os
import sys
import urllib.request

ports = [os.environ.get("LAPOR_TELEGRAM__WEBHOOK_PORT", "8081"), os.environ.get("LAPOR_OPS__PORT", "9100")]
for port in ports:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
            if r.status == 200:
                sys.exit(0)
    except OSError:
        continue
sys.exit(1)
