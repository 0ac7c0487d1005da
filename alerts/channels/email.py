"""Email over SMTP with the standard library: an alert, or any message with attachments
(the weekly report). STARTTLS when `smtp_starttls`, a login when `smtp_user` is set."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from alerts.channels import DeliveryError
from alerts.channels.http import describe
from core.settings import AlertSettings

Attachment = tuple[str, bytes, str]  # file name, content, MIME type


def message(conf: AlertSettings, subject: str, body: str,
            attachments: Sequence[Attachment] = ()) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = str(conf.email_from)
    msg["To"] = ", ".join(conf.email_to)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="profit-dashboard")
    msg.set_content(body)
    for name, data, mime in attachments:
        maintype, _, subtype = mime.partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg


def send_message(conf: AlertSettings, msg: EmailMessage) -> None:
    """Hand one message to the SMTP server; a refusal or no answer is a DeliveryError."""
    if not conf.email_ready:
        raise DeliveryError("email is not set up: [alerts] needs smtp_host, email_from "
                            "and email_to")
    try:
        with smtplib.SMTP(str(conf.smtp_host), conf.smtp_port,
                          timeout=conf.timeout_seconds) as smtp:
            if conf.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if conf.smtp_user:
                smtp.login(conf.smtp_user, conf.smtp_password or "")
            smtp.send_message(msg)
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(f"SMTP login refused ({exc.smtp_code})") from None
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(f"SMTP {exc.smtp_code}") from None
    except smtplib.SMTPNotSupportedError:
        raise DeliveryError("the SMTP server does not offer STARTTLS or login") from None
    except smtplib.SMTPException as exc:
        raise DeliveryError(f"SMTP error ({type(exc).__name__})") from None
    except ssl.SSLError:
        raise DeliveryError("TLS failed (STARTTLS)") from None
    except OSError as exc:
        raise DeliveryError(describe(exc, conf.timeout_seconds)) from None


def subject(event: dict[str, Any]) -> str:
    return f"[profit] {event['state'].upper()}: {event['message']}"[:200]


def text(event: dict[str, Any]) -> str:
    lines = [event["message"], "",
             f"rule: {event['rule']}", f"key: {event['key']}", f"period: {event['period']}",
             f"state: {event['state']}", f"value: {event['value']}",
             f"threshold: {event['threshold']}"]
    if event.get("url"):
        lines.append(f"open: {event['url']}")
    return "\n".join(lines) + "\n"


def send(conf: AlertSettings, event: dict[str, Any]) -> None:
    send_message(conf, message(conf, subject(event), text(event)))
