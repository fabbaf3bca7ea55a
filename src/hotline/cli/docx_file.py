"""A 公文 draft as a `.docx` file, set in the official fonts and sizes, for the 通报.

Sizes and fonts follow GB/T 9704-2012《党政机关公文格式》: the title in 2号 (22 pt)
小标宋, the body and the mark 附件N in 3号 (16 pt) — 仿宋 for text, 黑体 for the first
level of headings (一、) and for 附件N, 楷体 for the second ((一)); A4 paper with a 37 mm
top margin (天头), 28 mm left margin (订口) and a 156 × 225 mm type area (版心). The standard
sets no size for a table's text: the headings are in 小四 (12 pt) and the cells in 五号
(10.5 pt), as the published annexes are set. The fonts are the GB2312-era names Word and
WPS map to installed fonts; a Chinese font is named in w:eastAsia, which is the one Word
uses for Chinese text (python-docx's `font.name` sets only the Latin ones)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_PARAGRAPH_ALIGNMENT
from docx.oxml.ns import qn
from docx.oxml.text.font import CT_RPr
from docx.shared import Mm, Pt
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from hotline.cli.export import replace_file
from hotline.cli.output import printable
from hotline.domain.errors import InvalidInput

TITLE_FONT, TITLE_SIZE = "方正小标宋简体", Pt(22)  # 2号小标宋
BODY_FONT, BODY_SIZE = "仿宋_GB2312", Pt(16)  # 3号仿宋
FIRST_LEVEL_FONT = "黑体"  # 一、… and 附件N
SECOND_LEVEL_FONT = "楷体_GB2312"  # （一）…
HEADING_CELL_SIZE, CELL_SIZE = Pt(12), Pt(10.5)  # 小四, 五号


def check_path(path: Path) -> None:
    """Refuse a path the draft cannot be written to, before any work is done."""
    if path.suffix.lower() != ".docx":
        raise InvalidInput(f"--output {path}: the notice's name must end in .docx")
    if not path.parent.is_dir():
        raise InvalidInput(f"--output {path}: no such directory {path.parent}")


class Draft:
    """A notice being written, paragraph by paragraph, then saved whole."""

    def __init__(self) -> None:
        self._document = Document()
        section = self._document.sections[0]
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.top_margin, section.left_margin = Mm(37), Mm(28)
        section.right_margin, section.bottom_margin = Mm(210 - 28 - 156), Mm(297 - 37 - 225)
        normal = self._document.styles["Normal"]
        normal.font.size = BODY_SIZE
        _set_font(normal.element.get_or_add_rPr(), BODY_FONT)

    def title(self, text: str) -> None:
        """The title, centred, in 2号小标宋."""
        self._paragraph(text, TITLE_FONT, TITLE_SIZE, WD_ALIGN_PARAGRAPH.CENTER)

    def line(self, text: str, *, indent: bool = True, centred: bool = False) -> None:
        """A line of body text: a paragraph indented two characters, or a line flush left
        (the addressees, the mark 附件) or centred (a period under a title)."""
        paragraph = self._paragraph(
            text,
            BODY_FONT,
            BODY_SIZE,
            WD_ALIGN_PARAGRAPH.CENTER if centred else WD_ALIGN_PARAGRAPH.JUSTIFY,
        )
        if indent and not centred:
            paragraph.paragraph_format.first_line_indent = Pt(BODY_SIZE.pt * 2)

    def heading(self, text: str, level: int) -> None:
        """一、… (level 1, 黑体) or （一）… (level 2, 楷体), indented as body text."""
        font = FIRST_LEVEL_FONT if level == 1 else SECOND_LEVEL_FONT
        paragraph = self._paragraph(text, font, BODY_SIZE, WD_ALIGN_PARAGRAPH.JUSTIFY)
        paragraph.paragraph_format.first_line_indent = Pt(BODY_SIZE.pt * 2)

    def annex_mark(self, text: str) -> None:
        """附件N on a new page, flush left in 3号黑体."""
        self._document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        self._paragraph(text, FIRST_LEVEL_FONT, BODY_SIZE, WD_ALIGN_PARAGRAPH.LEFT)

    def table(self, headings: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        """A ruled table, every cell centred: headings in 小四 黑体, cells in 五号."""
        table = self._document.add_table(rows=1 + len(rows), cols=len(headings))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        for index, values in enumerate([headings, *rows]):
            font, size = (
                (FIRST_LEVEL_FONT, HEADING_CELL_SIZE) if index == 0 else (BODY_FONT, CELL_SIZE)
            )
            for cell, value in zip(table.rows[index].cells, values, strict=True):
                paragraph = cell.paragraphs[0]
                paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
                _styled(paragraph.add_run(printable(value)), font, size)

    def save(self, path: Path) -> None:
        """Write the file whole or not at all, never through a link (`replace_file`)."""
        replace_file(path, self._document.save)

    def _paragraph(
        self, text: str, font: str, size: Pt, alignment: WD_PARAGRAPH_ALIGNMENT
    ) -> Paragraph:
        paragraph = self._document.add_paragraph()
        paragraph.alignment = alignment
        _styled(paragraph.add_run(printable(text)), font, size)
        return paragraph


def _styled(run: Run, font: str, size: Pt) -> None:
    run.font.size = size
    _set_font(run._element.get_or_add_rPr(), font)


def _set_font(properties: CT_RPr, font: str) -> None:
    """Name `font` for Latin and East-Asian text alike (w:rFonts w:ascii, w:hAnsi and
    w:eastAsia)."""
    fonts = properties.get_or_add_rFonts()
    for script in ("w:ascii", "w:hAnsi", "w:eastAsia"):
        fonts.set(qn(script), font)
