"""Notifiers turn an outbox alert into a message somewhere. Each has a ``channel`` name and one method,
``async send(alert, *, plain=False)``, which raises a ``NotifyError`` subclass that the delivery worker turns into a
decision (retry later, drop the subscriber, move the address, or resend as plain text)."""
