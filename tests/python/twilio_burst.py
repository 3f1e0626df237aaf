"""Texts "Hello" to the acme number once from each SENDER, as signed Twilio webhooks, and
checks that each is acknowledged with TwiML.

    python twilio_burst.py DAEMON PUBLIC_URL ACCOUNT_SID AUTH_TOKEN SENDER...
"""

import sys
import urllib.parse
import urllib.request
import uuid

from twilio.request_validator import RequestValidator

DAEMON, PUBLIC, ACCOUNT, TOKEN = sys.argv[1:5]
validator = RequestValidator(TOKEN)
for sender in sys.argv[5:]:
    sid = "SM" + uuid.uuid4().hex
    params = {"MessageSid": sid, "SmsSid": sid, "AccountSid": ACCOUNT, "From": sender, "To": "+441632960000",
              "Body": "Hello", "NumMedia": "0", "ApiVersion": "2010-04-01"}
    signature = validator.compute_signature(PUBLIC + "/channels/twilio/sms", params)
    request = urllib.request.Request(f"http://{DAEMON}/channels/twilio/sms", method="POST",
                                     data=urllib.parse.urlencode(params).encode(),
                                     headers={"X-Twilio-Signature": signature})
    with urllib.request.urlopen(request, timeout=10) as r:
        assert r.status == 200 and b"<Response" in r.read(), sender
