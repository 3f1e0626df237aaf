"""The SMTP relay the daemon sends mail through: aiosmtpd (from PyPI), which writes each
message it takes as a line of JSON to OUT (its envelope, Message-ID, In-Reply-To,
References, Reply-To, Subject and plain text), so the test reads what was sent.

    python smtp_relay.py PORT OUT
"""

import asyncio
import email
import email.policy
import json
import sys

from aiosmtpd.controller import Controller

PORT, OUT = int(sys.argv[1]), sys.argv[2]


class Keep:
    async def handle_DATA(self, server, session, envelope):
        m = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        body = m.get_body(preferencelist=("plain",))
        line = {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos, "from": m["From"], "to": m["To"],
                "subject": m["Subject"], "message_id": m["Message-ID"], "in_reply_to": m["In-Reply-To"],
                "references": m["References"], "reply_to": m["Reply-To"],
                "text": body.get_content().strip() if body else ""}
        with open(OUT, "a") as f:
            f.write(json.dumps(line) + "\n")
        return "250 OK"


controller = Controller(Keep(), hostname="127.0.0.1", port=PORT)
controller.start()
print("listening", flush=True)
asyncio.get_event_loop().run_forever()
