"""The .docx renderer: a filled letter as a Word document (letterhead, date, address block, body, signature).

Pure: it takes a :class:`LetterContent` and returns bytes. The letterhead sits in the page header so it
repeats on every page of a long letter; the address block starts where a #10 window envelope shows it.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Inches, Pt

DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass(frozen=True, kw_only=True)
class LetterContent:
    """Everything printed on a letter, already filled and formatted."""

    title: str
    letterhead: list[str]  # utility name first, then address and phone lines
    date_line: str
    address: list[str]
    reference: str  # "Account 1234567890", above the subject
    subject: str
    greeting: str
    body: list[str]
    closing: str
    signature: list[str]
    created_at: dt.datetime
    author: str = "ccbhub"
    extra: dict[str, str] = field(default_factory=dict)


def render_docx(letter: LetterContent) -> bytes:
    doc = Document()
    section = doc.sections[0]
    section.top_margin = section.bottom_margin = Inches(0.8)
    section.left_margin = section.right_margin = Inches(1)
    style = doc.styles["Normal"]
    style.font.name = "Calibri"
    style.font.size = Pt(11)

    header = section.header
    first = header.paragraphs[0]
    first.alignment = WD_ALIGN_PARAGRAPH.CENTER
    name_run = first.add_run(letter.letterhead[0])
    name_run.bold = True
    name_run.font.size = Pt(14)
    for line in letter.letterhead[1:]:
        p = header.add_paragraph(line)
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER

    doc.add_paragraph(letter.date_line)
    # One paragraph per address line with no spacing between them, as a window envelope expects.
    for line in letter.address:
        p = doc.add_paragraph(line)
        p.paragraph_format.space_after = Pt(0)
    doc.add_paragraph()
    doc.add_paragraph(letter.reference).paragraph_format.space_after = Pt(0)
    subject = doc.add_paragraph()
    subject.add_run(f"Re: {letter.subject}").bold = True
    doc.add_paragraph(letter.greeting)
    for text in letter.body:
        doc.add_paragraph(text)
    doc.add_paragraph(letter.closing)
    for line in letter.signature:
        doc.add_paragraph(line).paragraph_format.space_after = Pt(0)

    props = doc.core_properties
    props.title = letter.title
    props.author = props.last_modified_by = letter.author
    props.created = props.modified = letter.created_at.replace(tzinfo=None)
    props.revision = 1
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
