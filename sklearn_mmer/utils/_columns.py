"""The names of the data contract's metadata columns.

X holds one column of cells per modality, and these columns of metadata:
``speaker`` (each utterance's speaker id), ``session`` (its recording session,
where known) and ``content`` (a script-line id or normalised transcript, where
known).
"""

#: The column of X holding each utterance's speaker id.
SPEAKER = "speaker"

#: The column of X holding each utterance's recording session, where known.
SESSION = "session"

#: The column of X holding what was said (a script-line id or a transcript).
CONTENT = "content"

#: Columns of the data contract that hold metadata, not modalities.
METADATA_COLUMNS = (SPEAKER, SESSION, CONTENT)
