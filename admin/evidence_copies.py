"""Metadata-free working copies of evidence: images, video and PDF.

A photo, a video or a PDF carries more than what it shows: the GPS
position, the phone's make and model, the author's name, the times it was
made and edited. The console offers a copy without these by default; the
original stays in the vault untouched (its SHA-256 is what the custody log
and receipts prove), and downloading it is a deliberate second choice.

- Images (JPEG, PNG): the structural allowlist of admin/console/images.py.
- Video: ffmpeg, `-map_metadata -1 -map_chapters -1` with `-c copy`: the
  same audio and video packets, no re-encoding, without the container's
  tags, chapters, data tracks (GPS tracks of action cameras) and
  subtitles. ffmpeg needs seekable files, so the plaintext is written to a
  memory-backed folder (tmpfs) of this machine, never to its disk; where
  ffmpeg or such a folder is missing, the reason is said and only the
  original is offered.
- PDF: pikepdf (qpdf), a maintained library that rewrites the whole file:
  the document information dictionary, XMP metadata streams, PieceInfo and
  annotation authors and dates are removed, and earlier revisions (which
  keep old metadata in an incrementally updated file) are not carried over.
"""

from __future__ import annotations

import io
import mimetypes
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from admin.console.images import ImageError, image_type, strip_metadata
from admin.stats import N_

IMAGE_TYPES = frozenset({"image/jpeg", "image/png"})
# Content type to the container ffmpeg writes the copy in (the same as the original's).
VIDEO_FORMATS = {
    "video/mp4": "mp4",
    "video/quicktime": "mov",
    "video/3gpp": "3gp",
    "video/webm": "webm",
    "video/x-matroska": "matroska",
}
PDF_TYPE = "application/pdf"
MAX_IMAGE_BYTES = 50 * 1024 * 1024
MAX_PDF_BYTES = 200 * 1024 * 1024
MEMORY_FILESYSTEMS = frozenset({"tmpfs", "ramfs"})
MEMORY_MARGIN = 64 * 1024 * 1024
_PDF_DROPPED_KEYS = ("/Metadata", "/PieceInfo")
_ANNOTATION_KEYS = ("/T", "/M", "/CreationDate")


def _containers() -> tuple[type, ...]:
    import pikepdf

    return (pikepdf.Dictionary, pikepdf.Stream, pikepdf.Array)


class CopyUnavailable(Exception):
    """No metadata-free copy can be made of this file here.

    reason is an English msgid (translated where shown), detail a technical
    addition in no particular language, or "".
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason} ({detail})" if detail else reason)
        self.reason, self.detail = reason, detail


def evidence_type(content_type: str, filename: str) -> str:
    """The file's type: as its upload said, or from its name when the upload said nothing useful."""
    if clean_kind(content_type) is None:
        guessed, _encoding = mimetypes.guess_type(filename, strict=False)
        if guessed and clean_kind(guessed) is not None:
            return guessed
    return content_type


def clean_kind(content_type: str) -> str | None:
    """ "image", "video" or "pdf" for the types a clean copy exists for, else None."""
    if content_type in IMAGE_TYPES:
        return "image"
    if content_type in VIDEO_FORMATS:
        return "video"
    if content_type == PDF_TYPE:
        return "pdf"
    return None


def clean_name(filename: str) -> str:
    """The copy's file name: "photo.jpg" becomes "photo-no-metadata.jpg"."""
    stem, dot, extension = filename.rpartition(".")
    if not dot or not stem:
        return f"{filename}-no-metadata"
    return f"{stem}-no-metadata.{extension}"


# -- images and PDF (in memory) ------------------------------------------------------


def clean_image(data: bytes, content_type: str) -> bytes:
    """The image without metadata; CopyUnavailable if it is not the image it claims to be."""
    if len(data) > MAX_IMAGE_BYTES:
        raise CopyUnavailable(N_("the image is too large for a copy made in memory"))
    try:
        if image_type(data) != content_type:
            raise ImageError("the content is not what its type says")
        clean, _mimetype = strip_metadata(data)
    except ImageError as exc:
        raise CopyUnavailable(N_("the image cannot be read"), str(exc)) from exc
    return clean


def clean_pdf(data: bytes) -> bytes:
    """The PDF rewritten without its metadata; CopyUnavailable if it cannot be read."""
    import pikepdf

    if len(data) > MAX_PDF_BYTES:
        raise CopyUnavailable(N_("the PDF is too large for a copy made in memory"))
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            _strip_pdf(pdf)
            out = io.BytesIO()
            pdf.save(out, deterministic_id=True, fix_metadata_version=False)
    except pikepdf.PdfError as exc:
        raise CopyUnavailable(N_("the PDF cannot be read"), str(exc)[:200]) from exc
    return out.getvalue()


def _strip_pdf(pdf: object) -> None:
    import pikepdf

    assert isinstance(pdf, pikepdf.Pdf)  # noqa: S101 - typed for mypy only
    if "/Info" in pdf.trailer:
        del pdf.trailer["/Info"]
    for obj in _every_dictionary(pdf):
        for key in _PDF_DROPPED_KEYS:
            if key in obj:
                del obj[key]
        if obj.get("/Type") == "/Annot" or ("/Subtype" in obj and "/Rect" in obj):
            for key in _ANNOTATION_KEYS:
                if key in obj:
                    del obj[key]


def _every_dictionary(pdf: Any) -> Iterator[Any]:
    """Every dictionary and stream of the file, direct ones inside arrays included."""
    import pikepdf

    seen: set[tuple[int, int]] = set()
    stack: list[Any] = [pdf.trailer, *pdf.objects]
    while stack:
        obj = stack.pop()
        if obj.is_indirect:
            if obj.objgen in seen:
                continue
            seen.add(obj.objgen)
        if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
            yield obj
            stack.extend(v for v in obj.values() if isinstance(v, _containers()))
        elif isinstance(obj, pikepdf.Array):
            stack.extend(v for v in obj if isinstance(v, _containers()))


# -- video (ffmpeg, in a memory-backed folder) -----------------------------------------


def ffmpeg_path() -> str:
    """The ffmpeg program; CopyUnavailable with what to install when it is missing."""
    found = shutil.which("ffmpeg")
    if found is None:
        raise CopyUnavailable(
            N_("ffmpeg is not installed on this computer (Debian: apt-get install ffmpeg)")
        )
    return found


def _filesystem_of(path: Path) -> str:
    best, kind = "", ""
    try:
        mounts = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return ""
    for line in mounts:
        fields = line.split()
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        inside = str(path) == point or str(path).startswith(point.rstrip("/") + "/")
        if inside and len(point) > len(best):
            best, kind = point, fields[2]
    return kind


def memory_folder(size: int) -> Path:
    """A folder of this machine kept in memory with room for two copies of size bytes.

    Raises CopyUnavailable when there is none: the plaintext of a video is
    never written to the disk for ffmpeg.
    """
    candidates = [os.environ.get("XDG_RUNTIME_DIR", ""), "/dev/shm"]  # noqa: S108 - tmpfs
    for candidate in filter(None, candidates):
        path = Path(candidate)
        if not path.is_dir() or _filesystem_of(path.resolve()) not in MEMORY_FILESYSTEMS:
            continue
        if shutil.disk_usage(path).free >= 2 * size + MEMORY_MARGIN:
            return path
    raise CopyUnavailable(
        N_("there is no memory-backed folder (tmpfs) with room for this video on this computer")
    )


class VideoCopy:
    """A metadata-free copy of a video, read once and then deleted with its folder."""

    def __init__(self, folder: Path, path: Path) -> None:
        self._folder, self.path = folder, path
        self.size = path.stat().st_size

    def chunks(self, size: int = 1024 * 1024) -> Iterator[bytes]:
        with open(self.path, "rb") as copy:
            while block := copy.read(size):
                yield block

    def close(self) -> None:
        shutil.rmtree(self._folder, ignore_errors=True)


def clean_video(chunks: Iterable[bytes], content_type: str, size: int) -> VideoCopy:
    """Copy the video's packets without metadata; the caller closes the result.

    Raises CopyUnavailable when ffmpeg or a memory folder is missing or
    ffmpeg cannot read the file; errors from chunks (a file that fails to
    decrypt) pass through after the plaintext is deleted.
    """
    program = ffmpeg_path()
    container = VIDEO_FORMATS[content_type]
    folder = Path(tempfile.mkdtemp(prefix="amanat-video-", dir=memory_folder(size)))
    try:
        source, target = folder / "original", folder / f"copy.{container}"
        with open(os.open(source, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
            for chunk in chunks:
                out.write(chunk)
        _run_ffmpeg(program, source, target, container, size)
        source.unlink()
        return VideoCopy(folder, target)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _run_ffmpeg(program: str, source: Path, target: Path, container: str, size: int) -> None:
    command = [
        program, "-nostdin", "-hide_banner", "-loglevel", "error", "-i", str(source),
        "-map", "0:v?", "-map", "0:a?", "-dn", "-sn",
        "-map_metadata", "-1", "-map_chapters", "-1",
        "-c", "copy", "-fflags", "+bitexact", "-f", container, str(target),
    ]  # fmt: skip
    timeout = 60 + size // (20 * 1024 * 1024)  # copying packets runs at disk speed
    try:
        done = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            command, capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise CopyUnavailable(N_("ffmpeg took too long to copy the video")) from exc
    if done.returncode != 0 or not target.is_file():
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        raise CopyUnavailable(N_("ffmpeg cannot copy this video"), detail[0][:200])


__all__ = [
    "CopyUnavailable",
    "VideoCopy",
    "clean_image",
    "clean_kind",
    "clean_name",
    "clean_pdf",
    "clean_video",
    "evidence_type",
    "ffmpeg_path",
    "memory_folder",
]
