"""Rasa graph components of MesoGuide (loaded by the Rasa server from config.yml)."""
