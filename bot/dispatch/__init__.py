"""Complaint dispatch (智能派单): the category from a trained classifier with
its confidence (bot/dispatch/classifier.py), the town or street (镇街) from
the citizen's location (bot/dispatch/towns.py); bot/dispatch/dispatcher.py
puts them together for the action that creates the ticket."""
