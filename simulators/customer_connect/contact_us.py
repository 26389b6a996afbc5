"""Synthetic "Contact Us" e-mails of the kind a city water-and-power utility receives, and their intake as
incidents.

:func:`generate_contact_us` writes ``n`` messages from small word lists (names, streets, phrasings) about
the topics customers actually raise (docs/ccb-domain.md §4: high bills, payment arrangements, start/stop
service, outages, solar and net metering, senior and low-income help, meter reads, returned checks, the EV
charger rebate, leaks). Everything is invented: addresses use the ``example`` mail domains reserved for
documentation and telephone numbers the fictional 555-01xx block. Account numbers are ten digits (§1.2)
and, as in real mail, present only sometimes and written in several ways; the true value is kept on the
message so tests of a parser can check what it extracted.

The output depends only on ``n``, ``seed`` and ``end`` (the latest possible receive time); with the same
arguments it is identical, which is what lets tests and demos refer to "message 3 of seed 42". Who writes,
about what, with which account and phone does not depend on ``end``; receive times and the dates a
message mentions ("moving in on March 12") do, since they are relative to the day the mail arrives.

:func:`ingest_contact_us` turns messages into incidents the way an e-mail channel does (§3): one incident
per message on the Email channel, the sender as primary contact (found by address or created), and the
message body as the first *Customer Entry* thread, created at the receive time, so the reference number
carries the day the mail arrived.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Sequence

import msgspec

from simulators.customer_connect import model
from simulators.customer_connect.store import IncidentRow, IncidentStore, NewThread

__all__ = ["TOPICS", "ContactUsEmail", "generate_contact_us", "ingest_contact_us"]

INBOX = "customer.service@utility.example.org"


class ContactUsEmail(msgspec.Struct, frozen=True, kw_only=True):
    """One synthetic message, with the facts it was written from."""

    message_id: str
    received_at: dt.datetime
    from_name: str
    from_address: str
    to_address: str
    subject: str
    body: str
    topic: str  # a key of model.CATEGORIES
    first_name: str
    last_name: str
    account_number: str | None  # what the customer meant, even when written with spaces or dashes
    phone: str | None
    service_address: str


FIRST_NAMES = [
    "Maria", "Jose", "Linda", "David", "Mei", "Tuan", "Grace", "Robert", "Ana", "Kevin",
    "Yolanda", "Hovik", "Keiko", "Darnell", "Priya", "Luis", "Esther", "Samuel", "Rosa", "Minji",
]  # fmt: skip
LAST_NAMES = [
    "Garcia", "Nguyen", "Kim", "Johnson", "Hernandez", "Avakian", "Tanaka", "Williams", "Lopez", "Patel",
    "Martinez", "Cohen", "Okafor", "Ramirez", "Chen", "Brooks", "Flores", "Sarkisian", "Yamamoto", "Davis",
]  # fmt: skip
STREETS = [
    "Sunset Blvd", "Vermont Ave", "Figueroa St", "Van Nuys Blvd", "Sepulveda Blvd", "Crenshaw Blvd",
    "Laurel Canyon Blvd", "Western Ave", "Reseda Blvd", "Pico Blvd", "Lankershim Blvd", "Slauson Ave",
]  # fmt: skip
MAIL_DOMAINS = ["example.com", "example.net", "example.org"]
AREA_CODES = ["213", "323", "310", "818", "424", "747"]

GREETINGS = ["Hello,", "Hi,", "To whom it may concern,", "Dear Customer Service,", "Good morning,", ""]
CLOSINGS = ["Thank you,", "Thanks,", "Regards,", "Sincerely,", "Thanks in advance,"]
TRAILERS = ["", "", "", "\n\nSent from my iPhone", "\n\nSent from my phone, please excuse typos"]

# Each topic: subjects, then body paragraphs with {placeholders} filled from the message's facts.
TOPICS: dict[str, tuple[list[str], list[str]]] = {
    "high_bill": (
        ["High bill", "Why is my bill so high?", "Bill doubled this month", "Question about my last bill"],
        [
            "My last bill was ${amount} but I usually pay around ${usual}. Nothing changed in the house "
            "and nobody new moved in. Can someone check if the meter is right or if I was billed in the "
            "wrong tier?",
            "I just got a bill for ${amount} for two months. That is more than double the ${usual} I "
            "normally pay. We were away for three weeks in {month}. Please explain the charges.",
            "The water part of my bill went up a lot (${amount} total). Is there a leak on your side? "
            "I checked the toilets and faucets and found nothing.",
        ],
    ),
    "payment_arrangement": (
        ["Payment arrangement", "Need more time to pay", "Can I pay in installments?", "Shut-off notice"],
        [
            "I lost my job last month and can't pay the full ${amount} by the due date. Can I set up a "
            "payment arrangement to pay it over {months} months? Please don't shut off my power.",
            "I received a notice that my service may be turned off. I can pay ${part} now and the rest on "
            "my next paycheck on {date}. Is that possible?",
            "My hours were cut. I applied for HEAP but it has not come through yet. Can you hold off on "
            "collection until the agency pays?",
        ],
    ),
    "start_service": (
        ["Start service", "New service at my apartment", "Moving in - need water and power on"],
        [
            "I'm moving into {address} on {date} and need electric and water service started in my name. "
            "What documents do you need from me? Is there a deposit?",
            "I signed a lease at {address}. Please start service on {date}. I am a new customer and don't "
            "have an account yet.",
        ],
    ),
    "stop_service": (
        ["Stop service", "Moving out - close my account", "Please stop service"],
        [
            "I am moving out of {address} on {date}. Please stop service that day and send the final bill "
            "to my new address. Will my deposit be refunded?",
            "My mother passed away and the house at {address} will be empty after {date}. How do I close "
            "her account?",
        ],
    ),
    "outage_report": (
        ["Power outage", "No power since this morning", "Outage on my street", "Lights keep flickering"],
        [
            "The power has been out at {address} since about {time}. My neighbors are out too. "
            "Do you know when it will be back? I have food in the fridge.",
            "Lights have been flickering on and off all evening near {street}. One transformer made a loud "
            "bang. Please send someone.",
            "We lost power again. This is the third time this month on our block of {street}. "
            "My elderly father uses an oxygen machine.",
        ],
    ),
    "solar_net_metering": (
        ["Solar credits", "Net metering question", "kWh received on my bill", "Solar bill is wrong"],
        [
            "Our solar panels were turned on in {month}. The bill shows kWh Delivered and kWh Received but "
            "I still owe ${amount}. Shouldn't the credits cover it?",
            "Where do my extra solar credits go? Last bill showed {kwh} kWh received. Do they roll over, and "
            "what happens if I sell the house?",
            "My net meter was installed but I am still billed like a normal meter. Please check the account.",
        ],
    ),
    "senior_assistance": (
        ["Help for a senior", "Lifeline discount", "Senior citizen needs help with bill", "EZ-SAVE"],
        [
            "I am writing for my mother, who is {age} and lives alone at {address}. She is behind on her "
            "bill and confused by the notices. Is there a program for seniors like Lifeline?",
            "I am {age} years old and on a fixed income. A neighbor told me about a discount for seniors. "
            "How do I apply?",
            "Can I get the EZ-SAVE discount? There are {people} of us in the household and my income "
            "went down.",
        ],
    ),
    "meter_read": (
        ["Meter read", "Estimated bill", "Wrong meter reading", "Meter reader could not get in"],
        [
            "My bill says the read was estimated. The meter is behind a locked gate with a dog; I can send "
            "a photo. Today it reads {reading}.",
            "The reading on my bill ({billed}) is higher than what my meter shows now ({reading}). "
            "Please send someone to check.",
        ],
    ),
    "returned_check": (
        ["Returned check", "Payment returned by bank", "Returned payment fee"],
        [
            "I see a returned payment fee on my account. My bank says the check for ${amount} was "
            "returned by mistake on their side. How do I get the fee removed and pay again?",
            "You sent me a letter that my payment was returned. I changed banks. Can I pay by card now "
            "without a penalty?",
        ],
    ),
    "ev_rebate": (
        ["EV charger rebate", "Charge Up L.A. rebate status", "Rebate for home charger"],
        [
            "I installed a Level 2 charger at {address} on {date}. How long does the rebate take, and "
            "can I also get the separate EV meter rebate?",
            "I applied for the Charge Up L.A.! rebate two months ago and have not heard back. "
            "I am on EZ-SAVE, so I should get the extra amount too.",
        ],
    ),
    "water_leak": (
        ["Water leak", "Water running in the street", "Low water pressure"],
        [
            "There is water bubbling up from the sidewalk in front of {address} since {time}. "
            "It is running down the street.",
            "Our water pressure has been very low for two days. Neighbors on {street} say the same.",
        ],
    ),
}

_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"]  # fmt: skip


def _written_account(rng: random.Random, digits: str) -> str:
    """Customers rarely type the account number the same way twice."""
    style = rng.randrange(4)
    if style == 0:
        return digits
    if style == 1:
        return f"{digits[:3]} {digits[3:6]} {digits[6:]}"
    if style == 2:
        return f"{digits[:5]}-{digits[5:]}"
    return f"#{digits}"


def _received_times(rng: random.Random, n: int, end: dt.datetime, days: int) -> list[dt.datetime]:
    """Receive times over the ``days`` before ``end``, mostly in local waking hours, oldest first."""
    local_end = end.astimezone(model.SITE_TZ)
    out: list[dt.datetime] = []
    for _ in range(n):
        day = (local_end - dt.timedelta(days=rng.randrange(days))).date()
        hour = rng.choices(range(24), weights=[1] * 6 + [4] * 3 + [8] * 9 + [5] * 4 + [2] * 2)[0]
        local = dt.datetime.combine(day, dt.time(hour, rng.randrange(60), rng.randrange(60)), model.SITE_TZ)
        out.append(min(local, local_end).astimezone(dt.UTC))
    return sorted(out)


def generate_contact_us(
    n: int, seed: int, *, end: dt.datetime | None = None, days: int = 7
) -> list[ContactUsEmail]:
    """``n`` synthetic Contact Us messages received in the ``days`` before ``end`` (default: now).

    Deterministic for a given ``(n, seed, end, days)``; senders, topics, subjects, account numbers and
    phones depend on ``n`` and ``seed`` only.
    """
    if n < 0:
        raise ValueError("n must not be negative")
    if days < 1:
        raise ValueError("days must be at least 1")
    end = end or dt.datetime.now(dt.UTC)
    if end.tzinfo is None:
        raise ValueError("end must be timezone-aware")
    rng = random.Random(seed)
    # Times come from a separate stream so the text does not change when only ``end`` does.
    times = _received_times(random.Random(f"times-{seed}"), n, end, days)
    topics = list(TOPICS)
    messages: list[ContactUsEmail] = []
    for i in range(n):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        topic = rng.choice(topics)
        subjects, bodies = TOPICS[topic]
        street = rng.choice(STREETS)
        address = f"{rng.randrange(100, 20000)} {street}" + (
            f", Apt {rng.randrange(1, 40)}" if rng.random() < 0.3 else ""
        )
        account = "".join(str(rng.randrange(10)) for _ in range(10)) if rng.random() < 0.6 else None
        phone = f"({rng.choice(AREA_CODES)}) 555-01{rng.randrange(100):02d}" if rng.random() < 0.7 else None
        usual = rng.randrange(60, 260)
        facts = {
            "amount": f"{usual * rng.uniform(1.8, 3.2):.2f}",
            "usual": str(usual),
            "part": str(rng.randrange(40, 150)),
            "months": str(rng.choice([3, 4, 6])),
            "month": rng.choice(_MONTHS),
            "date": (times[i].astimezone(model.SITE_TZ) + dt.timedelta(days=rng.randrange(3, 21))).strftime(
                "%B %d"
            ),
            "time": f"{rng.randrange(1, 12)}:{rng.choice(['00', '15', '30', '45'])} "
            + rng.choice(["am", "pm"]),
            "address": address,
            "street": street,
            "kwh": str(rng.randrange(80, 900)),
            "age": str(rng.randrange(66, 94)),
            "people": str(rng.randrange(2, 7)),
            "reading": f"{rng.randrange(10000, 99999):05d}",
            "billed": f"{rng.randrange(10000, 99999):05d}",
        }
        body_lines = [rng.choice(GREETINGS), "", rng.choice(bodies).format(**facts), ""]
        if account is not None:
            body_lines.append(f"Account number: {_written_account(rng, account)}")
        body_lines.append(f"Service address: {address}")
        if phone is not None:
            body_lines.append(rng.choice(["Phone: ", "You can call me at ", "Cell: "]) + phone)
        body_lines += ["", rng.choice(CLOSINGS), f"{first} {last}"]
        body = "\n".join(body_lines).strip() + rng.choice(TRAILERS)
        user = (
            f"{first}.{last}".lower()
            if rng.random() < 0.5
            else f"{first[0]}{last}{rng.randrange(10, 99)}".lower()
        )
        digest = hashlib.sha256(f"{seed}:{i}".encode()).hexdigest()[:16]
        messages.append(
            ContactUsEmail(
                message_id=f"<{digest}.{i}@mail.{rng.choice(MAIL_DOMAINS)}>",
                received_at=times[i],
                from_name=f"{first} {last}",
                from_address=f"{user}@{rng.choice(MAIL_DOMAINS)}",
                to_address=INBOX,
                subject=rng.choice(subjects)
                + (f" - acct {account}" if account and rng.random() < 0.2 else ""),
                body=body,
                topic=topic,
                first_name=first,
                last_name=last,
                account_number=account,
                phone=phone,
                service_address=address,
            )
        )
    return messages


async def ingest_contact_us(store: IncidentStore, emails: Sequence[ContactUsEmail]) -> list[IncidentRow]:
    """Create one incident per message not seen before (matched on Message-ID), oldest first."""
    created: list[IncidentRow] = []
    for mail in sorted(emails, key=lambda m: m.received_at):
        if await store.has_message(mail.message_id):
            continue
        contact = await store.create_contact(mail.first_name, mail.last_name, mail.from_address, mail.phone)
        created.append(
            await store.create_incident(
                mail.subject[:240],
                contact_id=contact.id,
                channel_id=model.EMAIL_CHANNEL.id,
                category_id=model.CATEGORIES[mail.topic].id,
                threads=[
                    NewThread(
                        entry_type_id=model.CUSTOMER_ENTRY.id,
                        text=mail.body,
                        channel_id=model.EMAIL_CHANNEL.id,
                        contact_id=contact.id,
                    )
                ],
                created=mail.received_at,
                source_message_id=mail.message_id,
            )
        )
    return created
