"""Decision thresholds shared by the actions (app environment) and
scripts/evaluate.py (Rasa environment): plain constants, no imports, so both
interpreters can read them."""

# Below this FAQ retriever confidence an FAQ answer is not given: the
# citizen is asked to rephrase or offered a person instead. Tuned together
# with the FallbackClassifier threshold in config.yml on eval/heldout with
# `make evaluate` (the retriever's softmax spreads its confidence over the 73
# entries, so 0.1 is still seven times the uniform 1/73; its scale grows with
# the catalog, hotline_rasa/faq_retriever.py; see README, "Quality").
FAQ_MIN_CONFIDENCE = 0.1
