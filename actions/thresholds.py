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

# From FAQ_MIN_CONFIDENCE up to this the entry is not answered at once: the
# assistant names the question it understood ("您是想问……吗？") and offers it
# as a button, with 不是这个 and a person (actions/faq.py; Rasa's two-stage
# fallback does the same). On the tuning sets (2026-12-06, 316 entries) the
# answers in this band were mostly wrong: eval/citizen_dev had 4 right FAQ
# answers in it against 10 wrong or off-topic ones, the four off-topic tuning
# sets 10 of their 28 FAQ answers; the right entry now costs one click, a
# wrong one is no longer given as an answer. Chosen on those sets
# (scripts/evaluate.py's sweep); docs/experiments/2026-12-06-third-round.md.
FAQ_ANSWER_CONFIDENCE = 0.35

# An FAQ answer offers the guide of the service the service retriever is sure
# the question is about (actions/guidance.py service_offer) unless the
# retriever's share on "no hotline matter" is at least this.
# eval/service_naming_report.py counts such offers the same way.
MAX_OFF_TOPIC_FOR_OFFER = 0.5

# A form's answer (`inform`) with no form running is a declined message to the
# dialogue (data/rules.yml: the fallback); when Rasa's complaint arbiter
# (hotline_rasa/complaint_arbiter.py) gives it P(complaint) at least this, the
# fallback starts the complaint instead ("路灯一整排都不亮" read as an answer).
# On the tuning parses the complaints DIET read as `inform` had P 0.75-0.99,
# the everyday requests 0.001-0.19 and real answers (an address, a company's
# name) at most 0.73; 0.9 until the eighth session
# (docs/experiments/2026-12-06-complaint-arbiter.md).
COMPLAINT_FROM_ANSWER = 0.8

# A message the dialogue has no use for where it is (a form's answer,
# `inform`, with no form running; a change to a complaint, `edit_complaint`,
# with none being filled in) gets the FAQ answer when the FAQ retriever is at
# least this sure of an entry ("户口本上我生日写错了 可以改吗" read as a change to
# a complaint, "自来水有股怪味" as an answer): the retriever's own "sure" (the
# complaint arbiter's faq_sure_confidence in config.yml). On the tuning
# parses the FAQ questions DIET read so had 0.97-0.999, the 29 real answers
# and changes at most 0.54 ("地址说错了 要改"); a problem read as an answer
# goes to the complaint first (COMPLAINT_FROM_ANSWER).
FAQ_SURE_OUT_OF_CONTEXT = 0.9

# An FAQ answer to a message Rasa's complaint arbiter gives P(complaint) at
# least this (kept an FAQ because the retriever was sure of the entry: "厂里三个
# 月冇出粮 老板跑了") offers to register the complaint as a button. 0.8 until
# 2026-12-07 (eleventh session); on the tuning sets' full parses, of the
# messages read as FAQ questions, 0.6 offers it to 27 complaints told in a line
# (17 at 0.8), to 18 FAQ questions (6), most of them on a problem the citizen
# may want handled ("退租房东扣押金不退", "隔壁店把桌子摆到人行道上 这样算占道吗"),
# to 2 other in-scope messages and 2 off-topic ones (none at 0.8): a button a
# questioner can ignore, against a complaint that would otherwise leave with
# the rules only. At 0.5: 33 complaints, 34 questions.
COMPLAINT_OFFER = 0.6
