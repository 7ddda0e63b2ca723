//! Outgoing e-mail through lettre: SMTP in production, `.eml` files in a
//! directory for development and tests, or nothing at all.
use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{Config, MailTransport};
use crate::db::models::LocalUser;
use crate::domain::NotificationKind;

#[derive(Clone)]
pub enum Mailer {
    None,
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File(AsyncFileTransport<Tokio1Executor>),
}

impl Mailer {
    pub fn from_config(cfg: &Config) -> anyhow::Result<Mailer> {
        Ok(match cfg.mail.transport {
            MailTransport::None => Mailer::None,
            MailTransport::Smtp => Mailer::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(&cfg.mail.smtp_url)
                    .map_err(|e| anyhow::anyhow!("mail.smtp_url: {e}"))?
                    .build(),
            ),
            MailTransport::File => {
                std::fs::create_dir_all(&cfg.mail.file_dir).map_err(|e| {
                    anyhow::anyhow!("mail.file_dir {}: {e}", cfg.mail.file_dir.display())
                })?;
                Mailer::File(AsyncFileTransport::new(&cfg.mail.file_dir))
            }
        })
    }

    async fn send(&self, msg: Message) -> anyhow::Result<()> {
        match self {
            Mailer::None => Ok(()),
            Mailer::Smtp(t) => t.send(msg).await.map(|_| ()).map_err(Into::into),
            Mailer::File(t) => t.send(msg).await.map(|_| ()).map_err(Into::into),
        }
    }

    /// A plain-text message in the account's language (Japanese or English).
    async fn send_text(
        &self,
        cfg: &Config,
        to: &str,
        subject: String,
        body: String,
    ) -> anyhow::Result<()> {
        let to: Mailbox = to.parse()?;
        let from: Mailbox = cfg.mail.from.parse()?;
        let msg = Message::builder()
            .from(from)
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)?;
        self.send(msg).await
    }

    /// The e-mail confirmation message, in the account's language (Japanese or English).
    pub async fn send_confirmation(
        &self,
        ctx: &super::Ctx,
        me: &LocalUser,
        link: &str,
    ) -> anyhow::Result<()> {
        let (cfg, settings) = (&ctx.config, ctx.settings());
        let username = &me.account.username;
        let title = &settings.title;
        let (subject, body) = if japanese(me) {
            (
                format!("{title}: メールアドレスの確認"),
                format!(
                    "{username} さん\n\n{title} への登録ありがとうございます。次のリンクを開いてメールアドレスを確認してください。\n\n{link}\n\nお心当たりがない場合は、このメールを無視してください。\n"
                ),
            )
        } else {
            (
                format!("{title}: confirm your e-mail address"),
                format!(
                    "Hello {username},\n\nthank you for joining {title}. Open this link to confirm your e-mail address:\n\n{link}\n\nIf you did not sign up, ignore this message.\n"
                ),
            )
        };
        self.send_text(cfg, &me.user.email, subject, body).await
    }

    /// A link to choose a new password (valid for an hour).
    pub async fn send_password_reset(
        &self,
        ctx: &super::Ctx,
        me: &LocalUser,
        link: &str,
    ) -> anyhow::Result<()> {
        let (cfg, settings) = (&ctx.config, ctx.settings());
        let username = &me.account.username;
        let title = &settings.title;
        let (subject, body) = if japanese(me) {
            (
                format!("{title}: パスワードの再設定"),
                format!(
                    "{username} さん\n\nパスワードの再設定を受け付けました。次のリンクを開いて、新しいパスワードを設定してください(1時間有効)。\n\n{link}\n\nお心当たりがない場合は、このメールを無視してください。パスワードは変わりません。\n"
                ),
            )
        } else {
            (
                format!("{title}: choose a new password"),
                format!(
                    "Hello {username},\n\nsomeone asked to reset your password. Open this link within an hour to choose a new one:\n\n{link}\n\nIf it was not you, ignore this message: your password stays as it is.\n"
                ),
            )
        };
        self.send_text(cfg, &me.user.email, subject, body).await
    }

    /// To the new address: a link that proves it (valid for a day).
    pub async fn send_email_change(
        &self,
        ctx: &super::Ctx,
        me: &LocalUser,
        new_email: &str,
        link: &str,
    ) -> anyhow::Result<()> {
        let (cfg, settings) = (&ctx.config, ctx.settings());
        let username = &me.account.username;
        let title = &settings.title;
        let (subject, body) = if japanese(me) {
            (
                format!("{title}: 新しいメールアドレスの確認"),
                format!(
                    "{username} さん\n\nメールアドレスをこのアドレスに変更するには、次のリンクを開いてください(24時間有効)。\n\n{link}\n\nお心当たりがない場合は、このメールを無視してください。\n"
                ),
            )
        } else {
            (
                format!("{title}: confirm your new e-mail address"),
                format!(
                    "Hello {username},\n\nto use this address for your account, open this link within a day:\n\n{link}\n\nIf it was not you, ignore this message.\n"
                ),
            )
        };
        self.send_text(cfg, new_email, subject, body).await
    }

    /// To the old address: the account's address was changed.
    pub async fn send_email_changed(
        &self,
        ctx: &super::Ctx,
        me: &LocalUser,
        new_email: &str,
    ) -> anyhow::Result<()> {
        let (cfg, settings) = (&ctx.config, ctx.settings());
        let username = &me.account.username;
        let title = &settings.title;
        let (subject, body) = if japanese(me) {
            (
                format!("{title}: メールアドレスが変更されました"),
                format!(
                    "{username} さん\n\nアカウントのメールアドレスが {new_email} に変更されました。お心当たりがない場合は、管理者に連絡してください。\n"
                ),
            )
        } else {
            (
                format!("{title}: your e-mail address was changed"),
                format!(
                    "Hello {username},\n\nthe e-mail address of your account is now {new_email}. If it was not you, contact the administrators.\n"
                ),
            )
        };
        self.send_text(cfg, &me.user.email, subject, body).await
    }
}

/// A notification to mail: who did what, the post's beginning, where to
/// read it, and where to turn such mails off.
pub struct NotificationMail {
    pub kind: NotificationKind,
    pub who: String,
    pub excerpt: Option<String>,
    pub link: String,
    pub settings: String,
}

impl Mailer {
    /// A notification the person chose to get by e-mail.
    pub async fn send_notification(
        &self,
        ctx: &super::Ctx,
        me: &LocalUser,
        n: &NotificationMail,
    ) -> anyhow::Result<()> {
        let (cfg, settings) = (&ctx.config, ctx.settings());
        let (title, who) = (&settings.title, &n.who);
        let ja = japanese(me);
        let what = match (n.kind, ja) {
            (NotificationKind::Mention, true) => {
                format!("{who} さんがあなたに返信またはメンションしました")
            }
            (NotificationKind::Mention, false) => format!("{who} mentioned you"),
            (NotificationKind::FollowRequest, true) => {
                format!("{who} さんからフォローリクエストが届きました")
            }
            (NotificationKind::FollowRequest, false) => format!("{who} asked to follow you"),
            (NotificationKind::Follow, true) => format!("{who} さんにフォローされました"),
            (NotificationKind::Follow, false) => format!("{who} followed you"),
            (NotificationKind::Favourite, true) => {
                format!("{who} さんがあなたの投稿をお気に入りにしました")
            }
            (NotificationKind::Favourite, false) => format!("{who} favourited your post"),
            (NotificationKind::Reblog, true) => {
                format!("{who} さんがあなたの投稿をブーストしました")
            }
            (NotificationKind::Reblog, false) => format!("{who} boosted your post"),
            (NotificationKind::MembershipRequest, true) => {
                format!("{who} さんからメンバー申請が届きました")
            }
            (NotificationKind::MembershipRequest, false) => {
                format!("{who} asked to become a member")
            }
            (NotificationKind::ProfileReminder, true) => {
                format!("{who} から: 卒業生プロフィールを最新にしませんか")
            }
            (NotificationKind::ProfileReminder, false) => {
                format!("{who} asks you to bring your alumni profile up to date")
            }
            (NotificationKind::AdminSignUp, true) => format!("{who} さんが登録しました"),
            (NotificationKind::AdminSignUp, false) => format!("{who} signed up"),
            (_, true) => format!("{who} さんからのお知らせ"),
            (_, false) => format!("News from {who}"),
        };
        let quoted = n
            .excerpt
            .as_deref()
            .map(|e| format!("\n\n> {}", e.replace('\n', "\n> ")))
            .unwrap_or_default();
        let (subject, body) = if ja {
            (
                format!("{title}: {what}"),
                format!(
                    "{what}。{quoted}\n\n{}\n\nメールでのお知らせは設定で変更できます: {}\n",
                    n.link, n.settings
                ),
            )
        } else {
            (
                format!("{title}: {what}"),
                format!(
                    "{what}.{quoted}\n\n{}\n\nChoose which notifications come by e-mail in your settings: {}\n",
                    n.link, n.settings
                ),
            )
        };
        self.send_text(cfg, &me.user.email, subject, body).await
    }
}

/// An org's invitation, in Japanese and in English (the recipient has no
/// account yet, so no language is known).
pub struct Invitation<'a> {
    pub org: &'a str,
    pub office: &'a str,
    pub link: &'a str,
    pub expires: &'a str,
}

impl Mailer {
    /// The office turned a membership request down, saying why.
    pub async fn send_membership_rejected(
        &self,
        ctx: &super::Ctx,
        me: &LocalUser,
        org: &str,
        reason: &str,
    ) -> anyhow::Result<()> {
        let (cfg, settings) = (&ctx.config, ctx.settings());
        let (title, username) = (&settings.title, &me.account.username);
        let (subject, body) = if japanese(me) {
            (
                format!("{title}: {org} へのメンバー申請について"),
                format!(
                    "{username} さん\n\n{org} の事務局は、今回のメンバー申請を承認しませんでした。事務局からのメッセージ:\n\n{reason}\n"
                ),
            )
        } else {
            (
                format!("{title}: your membership request to {org}"),
                format!(
                    "Hello {username},\n\nthe alumni office of {org} did not approve your membership request. Their message:\n\n{reason}\n"
                ),
            )
        };
        self.send_text(cfg, &me.user.email, subject, body).await
    }

    pub async fn send_invitation(
        &self,
        ctx: &super::Ctx,
        to: &str,
        inv: &Invitation<'_>,
    ) -> anyhow::Result<()> {
        let (cfg, settings) = (&ctx.config, ctx.settings());
        let (title, org, office, link, expires) =
            (&settings.title, inv.org, inv.office, inv.link, inv.expires);
        let subject = format!("{org} から招待が届きました / You are invited to {org}");
        let body = format!(
            "{org} の事務局({office})から、{title} への招待が届きました。\n次のリンクを開いてアカウントを作成すると、メンバーとして参加できます({expires} まで有効、1回限り)。\n\n{link}\n\nお心当たりがない場合は、このメールを無視してください。\n\n----\n\nThe alumni office of {org} ({office}) invites you to {title}.\nOpen this link to create your account and join as a member (valid until {expires}, once):\n\n{link}\n\nIf you did not expect this, ignore this message.\n"
        );
        self.send_text(cfg, to, subject, body).await
    }
}

fn japanese(me: &LocalUser) -> bool {
    me.user
        .locale
        .as_deref()
        .is_some_and(|l| l.starts_with("ja"))
}
