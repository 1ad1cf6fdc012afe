"""An SMTP sink for the hub's notification tests (aiosmtpd, on loopback).

Usage: sink.py PORT CERT KEY OUT USER PASSWORD

STARTTLS is required (with the test certificate in ../tls) and so is AUTH with USER and
PASSWORD; every message received is appended to OUT as one JSON line (envelope sender and
recipients, subject, plain-text body, whether the session was encrypted and authenticated).
Prints READY when it accepts connections; runs until killed. Written for this repository,
Apache-2.0 like the code.
"""

import json
import ssl
import sys
import time
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

port, cert, key, out, user, password = sys.argv[1:7]


class Handler:
    async def handle_DATA(self, server, session, envelope):
        msg = message_from_bytes(envelope.content, policy=policy.default)
        body = msg.get_body(preferencelist=("plain",))
        record = {
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "header_from": str(msg["from"]),
            "subject": str(msg["subject"]),
            "body": body.get_content() if body is not None else "",
            "tls": session.ssl is not None,
            "auth": bool(session.authenticated),
        }
        with open(out, "a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
        return "250 OK"


def authenticate(server, session, envelope, mechanism, data):
    ok = (
        isinstance(data, LoginPassword)
        and data.login.decode() == user
        and data.password.decode() == password
    )
    # handled=False: aiosmtpd answers 535 itself (with the default True it sends nothing)
    return AuthResult(success=ok, handled=False)


context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(cert, key)
controller = Controller(
    Handler(),
    hostname="127.0.0.1",
    port=int(port),
    tls_context=context,
    require_starttls=True,
    authenticator=authenticate,
    auth_required=True,
)
controller.start()
print("READY", flush=True)
while True:
    time.sleep(3600)
