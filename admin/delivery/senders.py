"""The two ways an outbox message leaves admin: an e-mail over SMTP and an HTTP POST to a webhook.

Each send raises `DeliveryError` (or any exception) on failure and is bounded by a timeout; SMTP
runs in a thread of its own pool (smtplib blocks), so a dead mail server costs a thread, never the
event loop.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.message import EmailMessage

import httpx

from admin.config import SmtpConfig


class DeliveryError(Exception):
    """A receiver refused or did not answer; the message is retried later."""


@dataclass(frozen=True)
class Email:
    to: list[str]
    subject: str
    body: str


@dataclass(frozen=True)
class WebhookPost:
    url: str
    content_type: str
    body: str


class SmtpSender:
    """One SMTP session per message, in a bounded thread pool."""

    def __init__(self, config: SmtpConfig, timeout: float, threads: int) -> None:
        self.config = config
        self.timeout = timeout
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="smtp")

    def _tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.config.ca_file) if self.config.ca_file else None)
        if not self.config.verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def _send_blocking(self, email: Email) -> None:
        config = self.config
        if config.host is None:
            raise DeliveryError("admin.notifications.smtp.host is not set")
        message = EmailMessage()
        message["From"] = config.sender
        message["To"] = ", ".join(email.to)
        message["Subject"] = email.subject
        message.set_content(email.body)
        client: smtplib.SMTP
        if config.security == "tls":
            client = smtplib.SMTP_SSL(config.host, config.port, timeout=self.timeout, context=self._tls_context())
        else:
            client = smtplib.SMTP(config.host, config.port, timeout=self.timeout)
        with client:
            if config.security == "starttls":
                client.starttls(context=self._tls_context())
            if config.username:
                password = config.password.get_secret_value() if config.password else ""
                client.login(config.username, password)
            client.send_message(message, from_addr=config.sender, to_addrs=email.to)

    async def send(self, email: Email) -> None:
        loop = asyncio.get_running_loop()
        try:
            # smtplib's own timeout bounds each socket operation; this one bounds the whole session.
            async with asyncio.timeout(self.timeout * 2):
                await loop.run_in_executor(self._pool, self._send_blocking, email)
        except (OSError, smtplib.SMTPException, TimeoutError) as exc:
            raise DeliveryError(f"SMTP {self.config.host}:{self.config.port}: {exc!r}") from exc

    def close(self) -> None:
        # Threads still talking to a dead server end at their socket timeout; nobody waits for them.
        self._pool.shutdown(wait=False, cancel_futures=True)


class WebhookSender:
    """HTTP POSTs with one shared connection pool; any answer but 2xx is a failure."""

    def __init__(self, timeout: float) -> None:
        self._client = httpx.AsyncClient(timeout=timeout, follow_redirects=False)
        self.timeout = timeout

    async def send(self, post: WebhookPost) -> None:
        try:
            async with asyncio.timeout(self.timeout * 2):
                response = await self._client.post(
                    post.url, content=post.body.encode(), headers={"content-type": post.content_type}
                )
        except (httpx.HTTPError, TimeoutError) as exc:
            raise DeliveryError(f"POST {post.url}: {exc!r}") from exc
        if not response.is_success:
            raise DeliveryError(f"POST {post.url}: HTTP {response.status_code} {response.text[:200]!r}")

    async def close(self) -> None:
        await self._client.aclose()
