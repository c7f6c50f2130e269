"""The project's Rasa channels: the website chat widget, Telegram and Twilio (SMS, WhatsApp).

Each is a subclass of Rasa's own connector that adds what Rasa 3.6 open source lacks (the
widget's static files and session start, inbound webhook authentication, text-only output
that degrades buttons and drops the widget-only payload). The credentials file that
``rasa run --credentials`` reads is written from environment variables by
:mod:`mesoguide.channels.credentials`, so no secret lives in the repository.
"""
