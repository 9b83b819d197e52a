"""One module per kind of content: what the model must return, and how it becomes files.

Each module has the same four parts:

- an output model (pydantic): what a language model must return, and what the offline
  provider builds;
- ``messages(brief, config)``: the system and user prompt, built from the task's fields;
- ``offline(brief, config, now)``: the built-in provider's answer — structured, specific
  to the topic, deterministic for the same inputs, no network and no cost;
- ``render(output, ...)``: the files a person opens (:class:`~..render.Rendered`).

Which label a file carries (offline templates or a named model) is passed to ``render``
as ``generated_by``, so every file says how it was made.
"""
