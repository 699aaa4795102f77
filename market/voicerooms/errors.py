"""Errors of the voicerooms domain, each with a stable code (HTTP bodies and Socket.IO acks)."""

from __future__ import annotations

from kernel.errors import CodedError, DomainError


class RoomNotFound(DomainError):
    code = "room_not_found"
    status = 404
    default_message = "no such voice room"


class NotRoomHost(DomainError):
    code = "not_room_host"
    status = 403
    default_message = "only the room's host or an admin may do this"


class NotMember(DomainError):
    code = "not_member"
    status = 403
    default_message = "you are not in this voice room"


class NotCompanion(DomainError):
    code = "not_companion"
    status = 403
    default_message = "only companions host voice rooms"


class NotCustomer(DomainError):
    code = "not_customer"
    status = 403
    default_message = "only customers join voice rooms"


class HostInCall(DomainError):
    code = "host_in_call"
    status = 409
    default_message = "you are in a 1:1 session; end it before you open a room"


class RoomAlreadyOpen(DomainError):
    code = "room_already_open"
    status = 409
    default_message = "you host an open room already; close it first"


class RoomClosed(DomainError):
    code = "room_closed"
    status = 409
    default_message = "this voice room has closed"


class RoomFull(DomainError):
    code = "room_full"
    status = 409
    default_message = "this voice room is full"


class AlreadyInRoom(DomainError):
    code = "already_in_room"
    status = 409
    default_message = "you are in another voice room; leave it first"


class TooManyRooms(DomainError):
    code = "too_many_rooms"
    status = 429
    default_message = "you opened many rooms today; try again tomorrow"


class TooManyJoins(DomainError):
    code = "too_many_joins"
    status = 429
    default_message = "you joined many rooms in the last hour; try again later"


class RequestReused(DomainError):
    code = "request_reused"
    status = 409
    default_message = "this request_id was used for another room; send a new one"


class TitleLength(DomainError):
    code = "title_length"
    status = 400
    default_message = "the title must be 1-30 characters"


class TitleCharacters(DomainError):
    code = "title_characters"
    status = 400
    default_message = "the title has invisible or control characters"


class TitleContactDetails(DomainError):
    code = "title_contact_details"
    status = 400
    default_message = "the title may not contain contact details"


class RateOutOfBounds(DomainError):
    code = "rate_out_of_bounds"
    status = 400
    default_message = "the rate is outside your voice bounds"


class CapacityOutOfBounds(DomainError):
    code = "capacity_out_of_bounds"
    status = 400
    default_message = "a room holds 2-9 people, the host included"


#: ``voicerooms.rules.RoomRuleError`` codes → their errors
RULE_ERRORS: dict[str, type[DomainError]] = {
    e.code: e
    for e in (
        TitleLength,
        TitleCharacters,
        TitleContactDetails,
        RateOutOfBounds,
        CapacityOutOfBounds,
    )
}


def refused(code: str, message: str, details: dict[str, object]) -> DomainError:
    """The error for a broken room rule."""
    kind = RULE_ERRORS.get(code)
    return kind(message, **details) if kind is not None else CodedError(code, message, **details)


class RoomChatFull(DomainError):
    code = "room_chat_full"
    status = 409
    default_message = "this room's chat is full; talk on, or open a new room"
