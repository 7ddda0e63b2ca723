lang-name = 日本語
page-error = エラーが発生しました
back-home = トップページへ戻る

authorize-title = { $app } を承認
authorize-intro = { $app } が { $domain } のあなたのアカウントの利用を求めています。
authorize-scopes = 求められている権限:
authorize-username = ユーザー名またはメールアドレス
authorize-password = パスワード
authorize-submit = ログインして承認
authorize-deny = 拒否
authorize-redirect-note = 承認後の移動先: { $uri }
authorize-denied = アクセスを拒否しました。このページは閉じて構いません。
error-credentials = ユーザー名・メールアドレスまたはパスワードが正しくありません。
error-rate-limited = ログインの試行回数が多すぎます。数分待ってからもう一度お試しください。
error-csrf = フォームの有効期限が切れました。ページを再読み込みしてもう一度お試しください。

scope-read = アカウントのすべてのデータの読み取り
scope-write = アカウントのデータの変更と投稿
scope-follow = アカウントのフォロー、ブロック、ミュート
scope-push = プッシュ通知の受信
scope-profile = 基本的なプロフィールの読み取りのみ
scope-admin = このサーバーの管理
scope-other = { $scope }

oob-title = 認証コード
oob-intro = このコードをコピーして { $app } に貼り付けてください:
oob-note = コードは一度だけ使え、10分で失効します。

setup-title = 最初の管理者を作成
setup-intro = この一度限りのページで { $domain } の管理者アカウントを作成します。使用後、このリンクは無効になります。
setup-username = ユーザー名
setup-email = メールアドレス
setup-password = パスワード（{ $min } 文字以上）
setup-submit = 管理者を作成
setup-done-title = 管理者アカウントを作成しました
setup-done = Mastodon アプリからサーバーに { $domain } を指定し、@{ $username } としてログインできます。
setup-invalid = このセットアップリンクは無効か、すでに使用されています。サーバーで "tsunagu admin create-user --admin" を実行して管理者を作成してください。

confirm-title = メールアドレスを確認しました
confirm-done = @{ $username } さん、ありがとうございます。メールアドレスが確認され、ログインできるようになりました。
confirm-invalid = この確認リンクは無効か、すでに使用されています。

home-intro = { $title } はフェディバース上の卒業生（アルムナイ）ネットワークです。
home-apps = お好きな Mastodon アプリ（Tusky、Ivory、Elk、Phanpy、Ice Cubes、toot など）でサーバーに { $domain } を指定してください。
home-version = tsunagu { $version } で稼働中。
not-found = このページは存在しません。

profile-org = 組織
profile-counts = 投稿 { $posts } · フォロー { $following } · フォロワー { $followers }
profile-follow = Mastodon 対応アプリで @{ $acct } を検索するとフォローできます。
profile-no-posts = 公開の投稿はまだありません。
post-unlisted = 未収載
post-counts = 返信 { $replies } · ブースト { $boosts } · お気に入り { $favourites }
post-more = { $name } さんの他の投稿
home-orgs = この拠点の組織
home-org-followers = フォロワー { $followers }
home-join = 参加するには、組織のページを開いてアプリからフォローするか、アルムナイ窓口に招待を依頼してください。
home-no-orgs = まだ組織が設定されていません。
profile-members = メンバー { $members }
post-boosted = { $name } がシェア
follow-elsewhere-label = 他のサーバーでのあなたのアドレス
follow-elsewhere-button = 自分のサーバーからフォロー
follow-elsewhere-invalid = アドレスは「名前@サーバー」の形で入力してください（例: name@mastodon.social）。
profile-clubs = 公認クラブ
profile-recognised-by = 公認元
