"""Names that cross module boundaries: slots, entities, intents, outcomes.

Everything that ``domain.yml``, the training data, the actions and the Rasa components must
agree on is spelled once here; ``tests/unit/test_domain_contract.py`` checks ``domain.yml``
against these names so a rename cannot slip through.
"""

from __future__ import annotations

from typing import Final

# --- slots -------------------------------------------------------------------------------
SLOT_TURN_OUTCOME: Final = "turn_outcome"  # the audit contract (docs/product.md)
SLOT_TREATMENT_AREA: Final = "treatment_area"  # carried over between questions
SLOT_CURRENT_TOPIC: Final = "current_topic"  # last answered topic, for "and for the face?"
# What the last reply asked for, so the next short message is read as its answer. An area on its
# own ("hair", "and for the face?") needs no entry here: it always follows the current topic.
SLOT_AWAITING: Final = "awaiting"
AWAITING_CALLBACK_OFFER: Final = "callback_offer"  # "Request a callback"? -> a bare yes starts the form
SLOT_ESCALATION_REFERENCE: Final = "escalation_reference"  # code of the stored escalation
SLOT_REQUESTED: Final = "requested_slot"  # Rasa's own: the slot a form asks for
# The callback form's slots, in the order it asks (consent first: nothing is collected before).
SLOT_CALLBACK_CONSENT: Final = "callback_consent"
SLOT_CALLBACK_NAME: Final = "callback_name"
SLOT_CALLBACK_CONTACT: Final = "callback_contact"
SLOT_CALLBACK_TIME: Final = "callback_time"
SLOT_CALLBACK_CONFIRM: Final = "callback_confirm"
CALLBACK_DETAIL_SLOTS: Final = (SLOT_CALLBACK_NAME, SLOT_CALLBACK_CONTACT, SLOT_CALLBACK_TIME)  # personal data
CALLBACK_SLOTS: Final = (SLOT_CALLBACK_CONSENT, *CALLBACK_DETAIL_SLOTS, SLOT_CALLBACK_CONFIRM)

# --- entities (labels of the guardrail pipeline's span ruler) ---------------------------
ENTITY_CONTRAINDICATION: Final = "contraindication"
ENTITY_RED_FLAG: Final = "red_flag"
ENTITY_MEDICAL_ADVICE: Final = "medical_advice"
ENTITY_TREATMENT_AREA: Final = "treatment_area"
GUARDRAIL_ENTITIES: Final = (ENTITY_RED_FLAG, ENTITY_CONTRAINDICATION, ENTITY_MEDICAL_ADVICE)
#: The guardrail pipeline's label for an education phrase: never an entity, it only cancels the
#: vocabulary matches it holds (knowledge/vocabularies/education_phrases.yml).
SPAN_EDUCATION_PHRASE: Final = "education_phrase"

# --- intents -----------------------------------------------------------------------------
INTENT_RED_FLAG: Final = "report_red_flag"
INTENT_CONTRAINDICATION: Final = "ask_contraindication"
INTENT_MEDICAL_ADVICE: Final = "ask_medical_advice"
INTENT_HUMAN: Final = "request_human"
INTENT_INFORM_AREA: Final = "inform_area"
INTENT_OUT_OF_SCOPE: Final = "out_of_scope"
INTENT_REQUEST_CALLBACK: Final = "request_callback"  # the "Request a callback" button
INTENT_AFFIRM: Final = "affirm"  # a bare "yes" / "ok": agrees to whatever the last reply offered
INTENT_THANK: Final = "thank"  # also "no thats ok": an offer turned down politely
INTENT_NLU_FALLBACK: Final = "nlu_fallback"
SMALLTALK_INTENTS: Final = ("greet", "thank", "goodbye", "ask_is_bot")
# An FAQ intent is this prefix + a topic id (``ask_sessions`` -> ``sessions``).
TOPIC_INTENT_PREFIX: Final = "ask_"

# --- outcomes (the values of ``turn_outcome``) -------------------------------------------
OUTCOME_FALLBACK: Final = "fallback"
# The normal path could not answer (a server down, slow or failing, input too long, too fast).
OUTCOME_UNAVAILABLE: Final = "unavailable"
# A member of staff has the conversation (the assistant is paused): their messages, not ours.
OUTCOME_HANDOFF: Final = "handoff"
ANSWER_PREFIX: Final = "answer:"
ESCALATE_PREFIX: Final = "escalate:"
SMALLTALK_PREFIX: Final = "smalltalk:"
CALLBACK_PREFIX: Final = "callback:"  # turns of the callback form, e.g. callback:ask_name

# --- parse data ----------------------------------------------------------------------------
# What the guardrail router recorded about a message: matches, the classifier's own intent and
# ranking, the safety-net threshold, and whether it routed. Read by the actions' re-check, the
# staff shell and the evaluation.
PARSE_KEY_GUARDRAIL: Final = "guardrail"
# The n-gram SVM's best intent for each sentence of a story of several sentences, as
# [intent, confidence] pairs: a red flag in the middle of a long message is judged on its own.
PARSE_KEY_SENTENCE_INTENTS: Final = "sentence_intents"
# What the language rail recorded: the message's language, red flags found by other languages'
# vocabularies, the languages the reply uses (mesoguide.language.rail.LanguageVerdict).
PARSE_KEY_LANGUAGE: Final = "language"
# The key of a channel's language hint in a message's metadata (the widget sends the browser's
# language, the Telegram channel the user's language_code).
METADATA_KEY_LANGUAGE: Final = "language"

# --- actions -----------------------------------------------------------------------------
ACTION_ANSWER_TOPIC: Final = "action_answer_topic"
ACTION_ESCALATE: Final = "action_escalate"
ACTION_OFFER_HELP: Final = "action_offer_help"
ACTION_REPLY_SMALLTALK: Final = "action_reply_smalltalk"
ACTION_SUBMIT_CALLBACK: Final = "action_submit_callback"
ACTION_VALIDATE_CALLBACK: Final = "validate_callback_form"
FORM_CALLBACK: Final = "callback_form"
# The form asks each slot with action_ask_<slot> (texts from knowledge/messages.yml).
ACTION_ASK_PREFIX: Final = "action_ask_"

# The topic ids the product fixes (docs/product.md). More topics are welcome (one knowledge file
# and its NLU examples); these must exist and keep their ids.
REQUIRED_TOPIC_IDS: Final = (
    "what_is", "history", "how_it_works", "ingredients", "benefits", "face_rejuvenation",
    "hair_loss", "cellulite", "fat_reduction", "pigmentation", "acne_and_scars",
    "stretch_marks", "under_eye", "skin_tightening", "therapeutic_uses", "consultation",
    "procedure_steps", "injection_technique", "needle_free", "pain", "downtime", "sessions",
    "results_timing", "results_duration", "side_effects", "complications", "aftercare", "cost",
    "effectiveness", "safety", "candidacy", "practitioner", "vs_botox", "vs_fillers",
    "vs_laser", "combination_treatments", "innovations", "booking", "clinic_contact",
)

# --- content quality and the release gate (mesoguide/knowledge/readability.py, release.py) ----
#: Highest Flesch-Kincaid grade of any text the assistant sends (docs/product.md: "a reading age of about 12").
READING_GRADE_MAX: Final = 8.0
#: A release needs the clinic's facts (phones, hours, out-of-hours route) checked this recently.
CLINIC_FACTS_MAX_AGE_DAYS: Final = 90
#: A clinician's sign-off of a text counts for this long; then the text is reviewed again.
CLINICIAN_SIGNOFF_MAX_AGE_DAYS: Final = 365
