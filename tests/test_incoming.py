"""What comes in from a messenger is cleaned before anything stores it."""

from core.messages import InAttachment, Incoming


def test_lone_surrogates_and_long_file_names_are_cleaned_before_they_are_stored() -> None:
    sent = Incoming(
        channel="zalo",
        chat_id="c",
        user_id="u",
        text="Máy dán nhãn \ud83d tự động",
        display_name="An \udc00",
        attachments=(InAttachment("document", "f1", "x" * 300 + ".pdf\x00", "a/" + "b" * 200),),
    ).cleaned()
    assert sent.text == "Máy dán nhãn  tự động" and sent.display_name == "An "
    (document,) = sent.attachments
    assert document.file_name == "x" * 255 and document.mime_type == "a/" + "b" * 98
    assert sent.text.encode() and (document.file_name or "").encode()  # UTF-8, storable
