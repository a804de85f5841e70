"""The one family of exceptions that crypto/ raises.

Callers catch `CryptoError` to handle any failure, or a subclass when the
reason matters to the person in front of the screen (a wrong passphrase is
told apart from a damaged file).
"""


class CryptoError(Exception):
    """Base of every error raised by crypto/."""


class EnvelopeError(CryptoError):
    """An envelope could not be opened; no plaintext is to be trusted."""


class NotAnEnvelopeError(EnvelopeError):
    """The data does not start with the envelope magic."""


class UnknownVersionError(EnvelopeError):
    """The format version is not one this code can read."""


class MalformedError(EnvelopeError):
    """The structure is broken (bad lengths, bad frame kinds or order)."""


class SlotCountError(MalformedError):
    """The slot count is 0 or more than 255."""


class FrameSizeError(MalformedError):
    """A frame, the final frame or the number of padding frames is not the size the format fixes."""


class FrameOrderError(MalformedError):
    """Frames are not data, then padding, then one end frame."""


class NonZeroPaddingError(MalformedError):
    """A padding byte is not zero, or a padding frame claims content."""


class TrailerLengthError(MalformedError):
    """The trailer is longer than 16,384 bytes."""


class NotARecipientError(EnvelopeError):
    """No key slot in the envelope is addressed to the given key."""


class TamperedError(EnvelopeError):
    """Authentication failed: a flipped bit, a moved slot or header, a reordered
    or duplicated chunk, or the wrong key."""


class KeyCommitmentError(TamperedError):
    """The content key in this reader's slot is not the one the header commits to:
    the sealer gave different recipients different keys."""


class TruncatedError(EnvelopeError):
    """The data ended before the final chunk."""


class TrailingDataError(EnvelopeError):
    """Bytes follow the final chunk."""


class WrongKindError(EnvelopeError):
    """The envelope holds another kind of content than the caller expected."""


class ManifestMismatchError(EnvelopeError):
    """A file's content does not match the length or SHA-256 in its manifest."""


class KeyFileError(CryptoError):
    """A key file is unreadable, damaged or of an unknown version."""


class WrongPassphraseError(KeyFileError):
    """The passphrase does not open the key file."""


class BadBundleError(CryptoError):
    """A recipient bundle is malformed or its self-signature does not verify."""


class BadSignatureError(CryptoError):
    """A signature does not verify for this key, purpose and message."""


class BadCodenameError(CryptoError):
    """A codename is malformed or fails its check digit."""
