lang-name = English
page-error = Something went wrong
back-home = Back to the start page

authorize-title = Authorize { $app }
authorize-intro = { $app } would like to use your account on { $domain }.
authorize-scopes = It asks for permission to:
authorize-username = Username or e-mail address
authorize-password = Password
authorize-submit = Sign in and authorize
authorize-deny = Deny
authorize-redirect-note = You will be sent back to: { $uri }
authorize-denied = You denied access. You can close this page.
error-credentials = Invalid username/e-mail or password.
error-rate-limited = Too many sign-in attempts. Please wait a few minutes and try again.
error-csrf = This form has expired. Please reload the page and try again.

scope-read = Read all your account's data
scope-write = Change your account's data and post on your behalf
scope-follow = Follow, block and mute accounts
scope-push = Receive push notifications
scope-profile = Read your basic profile only
scope-admin = Administer this server
scope-other = { $scope }

oob-title = Authorization code
oob-intro = Copy this code and paste it into { $app }:
oob-note = The code works once and expires in 10 minutes.

setup-title = Create the first administrator
setup-intro = This one-time page creates the administrator account of { $domain }. The link stops working once it has been used.
setup-username = Username
setup-email = E-mail address
setup-password = Password (at least { $min } characters)
setup-submit = Create the administrator
setup-done-title = Your administrator account is ready
setup-done = You can now sign in as @{ $username } from any Mastodon app: enter { $domain } as the server.
setup-invalid = This setup link is invalid or was already used. Run "tsunagu admin create-user --admin" on the server to create an administrator.

confirm-title = E-mail address confirmed
confirm-done = Thank you, @{ $username }. Your e-mail address is confirmed; you can sign in now.
confirm-invalid = This confirmation link is invalid or was already used.

home-intro = { $title } is an alumni network on the fediverse.
home-apps = Use any Mastodon app (Tusky, Ivory, Elk, Phanpy, Ice Cubes, toot...) and enter { $domain } as the server.
home-version = Running tsunagu { $version }.
not-found = This page does not exist.

profile-org = Organisation
profile-counts = { $posts } posts · { $following } following · { $followers } followers
profile-follow = Follow from any Mastodon app: search for @{ $acct }.
profile-no-posts = No public posts yet.
post-unlisted = unlisted
post-counts = { $replies } replies · { $boosts } boosts · { $favourites } favourites
post-more = More from { $name }
home-orgs = Organisations here
home-org-followers = { $followers } followers
home-join = To join, open an organisation's page and follow it from your app, or ask its alumni office for an invitation.
home-no-orgs = No organisation has been set up here yet.
profile-members = { $members } members
post-boosted = Shared by { $name }
follow-elsewhere-label = Your address on another server
follow-elsewhere-button = Follow from your server
follow-elsewhere-invalid = Enter your address as name@server (for example name@mastodon.social).
profile-clubs = Recognised clubs
profile-recognised-by = Recognised by
