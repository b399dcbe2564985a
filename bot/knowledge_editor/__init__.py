"""The knowledge loop's editor side: questions the assistant did not settle,
grouped by similarity (:mod:`.grouping`), turned into reviewable changes of
data/knowledge/faq.yml (:mod:`.faq_file`), and the list of changes the
trained model does not have yet (:mod:`.training`). :mod:`.editor` ties them
to the database and the audit log; the console page is bot/console/knowledge.py.
"""
