"""The language rail: which language a message is in, red flags written in other languages, and
the safe reply for patients who write a language the assistant does not answer in
(``mesoguide/language/README.md``)."""
