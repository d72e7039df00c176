"""Delivering admin's outbox: the senders (SMTP, webhooks) and the dispatcher task that drives them."""
