"""Acceptance: Mastodon.py posts, edits, reacts, reads timelines and notifications.

Usage: python mastodon_py_posting.py BASE_URL ALICE_TOKEN BOB_TOKEN
"""
import os
import struct
import sys
import tempfile
import zlib

from mastodon import Mastodon

BASE, ALICE, BOB = sys.argv[1], sys.argv[2], sys.argv[3]


def png(path, w, h):
    rows = b"".join(b"\x00" + b"".join(bytes((x % 256, y % 256, 90)) for x in range(w)) for y in range(h))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def main():
    alice = Mastodon(access_token=ALICE, api_base_url=BASE)
    bob = Mastodon(access_token=BOB, api_base_url=BASE)
    me = alice.account_verify_credentials()
    bob_me = bob.account_verify_credentials()

    rel = bob.account_follow(me["id"])
    assert rel["following"], rel

    # A post with a content warning, in Japanese, with a hashtag.
    st = alice.status_post("同窓会のお知らせ #alumni", spoiler_text="meetup", language="ja", visibility="public")
    assert st["spoiler_text"] == "meetup" and st["sensitive"], st
    assert st["tags"][0]["name"] == "alumni", st["tags"]
    edited = alice.status_update(st["id"], "同窓会のお知らせ（更新） #alumni", spoiler_text="meetup")
    assert edited["edited_at"] is not None
    history = alice.status_history(st["id"])
    assert len(history) == 2, history
    assert alice.status_source(st["id"])["text"].startswith("同窓会のお知らせ（更新）")

    # A photo with a description and a focus point, posted behind a content warning.
    path = os.path.join(tempfile.mkdtemp(), "reunion.png")
    png(path, 320, 200)
    media = alice.media_post(path, mime_type="image/png", description="集合写真", focus=(0.2, -0.4), synchronous=True)
    assert media["type"] == "image" and media["url"], media
    photo = alice.status_post("写真 #alumni", media_ids=[media], spoiler_text="reunion photo", sensitive=True)
    assert photo["media_attachments"][0]["description"] == "集合写真", photo["media_attachments"]
    assert photo["media_attachments"][0]["meta"]["original"]["width"] == 320

    # Reactions.
    assert bob.status_favourite(st["id"])["favourited"]
    boost = bob.status_reblog(st["id"])
    assert boost["reblog"]["id"] == st["id"]
    assert bob.status_bookmark(st["id"])["bookmarked"]
    assert [s["id"] for s in bob.bookmarks()] == [st["id"]]
    assert [s["id"] for s in bob.favourites()] == [st["id"]]
    assert alice.status_favourited_by(st["id"])[0]["id"] == bob_me["id"]
    reply = bob.status_post("@alice おめでとう", in_reply_to_id=st["id"])
    ctx = alice.status_context(st["id"])
    assert [s["id"] for s in ctx["descendants"]] == [reply["id"]], ctx

    # Home and hashtag timelines, following the Link pages.
    for i in range(5):
        alice.status_post(f"post {i} #alumni")
    page = bob.timeline_home(limit=2)
    seen = [s["id"] for s in page]
    while True:
        page = bob.fetch_next(page)
        if not page:
            break
        seen.extend(s["id"] for s in page)
    assert len(seen) == len(set(seen)) and len(seen) >= 8, seen
    tagged = alice.timeline_hashtag("alumni", limit=3)
    more = alice.fetch_next(tagged)
    assert len(tagged) == 3 and len(more) == 3, (tagged, more)

    # Notifications of the favourite, reblog and mention.
    kinds = {n["type"] for n in alice.notifications()}
    assert {"favourite", "reblog", "mention", "follow"} <= kinds, kinds
    only = alice.notifications(types=["favourite"])
    assert [n["type"] for n in only] == ["favourite"], only

    # A quick survey by poll.
    survey = alice.status_post("Reunion in June?", poll=alice.make_poll(["Yes", "No"], expires_in=3600))
    voted = bob.poll_vote(survey["poll"]["id"], [0])
    assert voted["voted"] and voted["own_votes"] == [0], voted
    assert alice.poll(survey["poll"]["id"])["options"][0]["votes_count"] == 1

    # Search, lists, filters and markers, as apps use them.
    found = bob.search("alice", result_type="accounts")
    assert found["accounts"][0]["id"] == me["id"], found
    assert bob.search("alumni", result_type="hashtags")["hashtags"][0]["name"] == "alumni"
    lst = bob.list_create("Former colleagues")
    bob.list_accounts_add(lst["id"], [me["id"]])
    assert [a["id"] for a in bob.list_accounts(lst["id"])] == [me["id"]]
    assert len(bob.timeline_list(lst["id"])) >= 6
    flt = bob.create_filter_v2("No posts", ["home"], keywords_attributes=[{"keyword": "post", "whole_word": True}], filter_action="warn")
    warned = [s for s in bob.timeline_home() if s["filtered"]]
    assert warned and warned[0]["filtered"][0]["filter"]["id"] == flt["id"], warned
    assert any(f["id"] == flt["id"] for f in bob.filters_v2())
    newest = bob.timeline_home(limit=1)[0]["id"]
    bob.markers_set(["home"], [newest])
    assert str(bob.markers_get(["home"])["home"]["last_read_id"]) == str(newest)

    bob.status_delete(reply["id"])
    assert alice.status_context(st["id"])["descendants"] == []
    print("mastodon.py posting acceptance: OK")


if __name__ == "__main__":
    main()
