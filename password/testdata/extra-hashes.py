#!/usr/bin/python3
"""Writes extra-hashes.json: hashes made by the real libraries, for formats
and variants that legacy-hashes.json does not cover.

Made with Debian 12's python3-django 3.2.25, python3-argon2 (argon2-cffi)
21.1.0, python3-bcrypt 3.2.2 and Python 3.11's hashlib (werkzeug 3 formats
are hashlib calls, as in werkzeug's own _hash_internal).

    apt-get install python3-django python3-argon2 python3-bcrypt
    /usr/bin/python3 extra-hashes.py > extra-hashes.json
"""
import hashlib
import json

import argon2
import bcrypt
import django
from django.conf import settings

settings.configure(PASSWORD_HASHERS=[
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptPasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
])
django.setup()
from django.contrib.auth.hashers import make_password  # noqa: E402

passwords = ["correct horse battery staple", "pässwörd-ünïcode-✓ 🙂"]
out = []


def add(fmt, pw, h, wrong=False):
    e = {"format": fmt, "password": pw, "hash": h}
    if wrong:
        e["wrong"] = True
    out.append(e)


def werkzeug_pbkdf2(method, hash_name, iterations, salt, pw):
    dk = hashlib.pbkdf2_hmac(hash_name, pw.encode(), salt.encode(), iterations)
    return f"{method}${salt}${dk.hex()}"


def werkzeug_scrypt(method, n, r, p, salt, pw):
    dk = hashlib.scrypt(pw.encode(), salt=salt.encode(), n=n, r=r, p=p, maxmem=132 * n * r * p)
    return f"{method}${salt}${dk.hex()}"


for pw in passwords:
    add("django argon2 (Argon2PasswordHasher defaults)", pw, make_password(pw, hasher="argon2"))
    add("django bcrypt (BCryptPasswordHasher)", pw, make_password(pw, hasher="bcrypt"))
    add("argon2-cffi argon2id PHC", pw,
        argon2.PasswordHasher(time_cost=1, memory_cost=1024, parallelism=2, type=argon2.Type.ID).hash(pw))
    add("argon2-cffi argon2i PHC", pw,
        argon2.PasswordHasher(time_cost=3, memory_cost=512, parallelism=1, type=argon2.Type.I).hash(pw))
    add("django argon2 with argon2i (Django < 3.2 style)", pw,
        "argon2" + argon2.PasswordHasher(time_cost=2, memory_cost=512, parallelism=2, type=argon2.Type.I).hash(pw))
    add("bcrypt $2a$ cost 4", pw, bcrypt.hashpw(pw.encode(), bcrypt.gensalt(4, prefix=b"2a")).decode())
    add("werkzeug pbkdf2:sha512:220000", pw, werkzeug_pbkdf2("pbkdf2:sha512:220000", "sha512", 220000, "Rk8dQ2LmXv0pZa1c", pw))
    add("werkzeug pbkdf2:sha1:1000 (werkzeug 0.9 default)", pw, werkzeug_pbkdf2("pbkdf2:sha1:1000", "sha1", 1000, "aB3dE6gH", pw))
    add("werkzeug scrypt (bare, default 32768:8:1)", pw, werkzeug_scrypt("scrypt", 2**15, 8, 1, "sKd83LmQpW0zXyTr", pw))
    add("werkzeug scrypt:16384:8:2", pw, werkzeug_scrypt("scrypt:16384:8:2", 2**14, 8, 2, "Yt5uIo9pAs2dFg7h", pw))
    add("werkzeug pbkdf2:sha256 (bare, current werkzeug default 1000000)", pw,
        werkzeug_pbkdf2("pbkdf2:sha256", "sha256", 1000000, "Q1w2E3r4T5y6U7i8", pw))

wrong = "correct horse battery staple?"
for e in list(out):
    if e["password"] == passwords[0]:
        add(e["format"], wrong, e["hash"], wrong=True)

print(json.dumps({"about": __doc__.strip().splitlines()[0] + " Entries with wrong=true must NOT verify.",
                  "hashes": out}, ensure_ascii=False, indent=1))
