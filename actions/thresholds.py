"""Decision thresholds shared by the actions (app environment) and
scripts/evaluate.py (Rasa environment): plain constants, no imports, so both
interpreters can read them."""

# Below this ResponseSelector confidence an FAQ answer is not given: the
# citizen is asked to rephrase or offered a person instead. Tuned together
# with the FallbackClassifier threshold in config.yml on eval/heldout with
# `make evaluate` (the ResponseSelector spreads its confidence over 73 FAQs,
# so 0.1 is still seven times the uniform 1/73; see README, "Quality").
FAQ_MIN_CONFIDENCE = 0.1
