"""The run log: writing records (:mod:`.writer`), reading them back (:mod:`.reader`),
querying and summarizing them (:mod:`.history`) and archiving old days (:mod:`.archive`).

Nothing is imported here, so importing one part does not load the others.
"""
