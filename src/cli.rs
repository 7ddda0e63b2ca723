//! The `tsunagu` command line.
use std::io::Read;
use std::path::PathBuf;

use crate::domain::OrgKind;
use clap::{Parser, Subcommand};

use crate::config::{Config, LogFormat};
use crate::services::{Ctx, ServiceError, accounts, moderation};

#[derive(Parser)]
#[command(
    name = "tsunagu",
    version,
    about = "tsunagu (つなぐ): a federated ActivityPub server for corporate alumni communities"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server. Without a config file: SQLite at data/tsunagu.db, http://localhost:8080.
    Serve {
        /// A TOML file (see config.example.toml); TSUNAGU_SECTION__KEY variables override it.
        #[arg(long, short, env = "TSUNAGU_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Create or update the database schema and exit (serve also does this at start).
    Migrate {
        #[arg(long, short, env = "TSUNAGU_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Administration from the shell.
    Admin {
        #[arg(long, short, env = "TSUNAGU_CONFIG", global = true)]
        config: Option<PathBuf>,
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Org administration from the shell.
    Org {
        #[arg(long, short, env = "TSUNAGU_CONFIG", global = true)]
        config: Option<PathBuf>,
        #[command(subcommand)]
        command: OrgCommand,
    },
    /// Federation state from the shell.
    Federation {
        #[arg(long, short, env = "TSUNAGU_CONFIG", global = true)]
        config: Option<PathBuf>,
        #[command(subcommand)]
        command: FederationCommand,
    },
}

#[derive(Subcommand)]
enum OrgCommand {
    /// Create an org; the founder (an existing local account) becomes its
    /// first office member.
    Create {
        /// The org's username (its handle, in the same name space as people).
        #[arg(long)]
        username: String,
        /// The local account that runs it at first.
        #[arg(long)]
        founder: String,
        #[arg(long)]
        display_name: Option<String>,
        /// A club (informal) rather than an official org.
        #[arg(long)]
        club: bool,
    },
    /// Import the office's roster of former employees from a CSV file with a
    /// header row: email (required), name, tenure_from, tenure_to (YYYY,
    /// YYYY-MM or YYYY-MM-DD), divisions (separated by ;), role (alumnus or
    /// employee). Re-importing updates entries and never duplicates them; bad
    /// rows are listed with their line numbers and the rest is imported.
    ImportRoster {
        /// The org's username, e.g. acme.
        org: String,
        /// The CSV file ("-" reads standard input).
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum FederationCommand {
    /// Per remote instance: queued deliveries, lag, delivered count, failures,
    /// circuit-breaker state and last error; and the inbound backlog.
    Status,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a local account, approved and confirmed. Prints a generated
    /// password once unless --password-stdin is given.
    CreateUser {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: String,
        /// Make the account an administrator.
        #[arg(long)]
        admin: bool,
        /// Read the password from standard input (first line).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Approve an account waiting for approval (registrations.mode = "approval").
    Approve {
        #[arg(long)]
        username: String,
    },
    /// List accounts waiting for approval.
    Pending,
    /// List open reports (from people here and Flags from other servers).
    Reports,
    /// Mark a report handled.
    ResolveReport {
        /// The report's id, as `admin reports` prints it.
        #[arg(long)]
        id: i64,
    },
    /// Delete a local account: its posts and follows go, other instances are
    /// told, and the name stays reserved.
    DeleteAccount {
        #[arg(long)]
        username: String,
    },
    /// Publish an instance announcement (shown by apps through /api/v1/announcements).
    Announce {
        /// The announcement, as plain text (links are linked).
        #[arg(long)]
        text: String,
        /// Hours until it ends (default: until removed).
        #[arg(long)]
        ends_in_hours: Option<i64>,
    },
    /// Block a domain: "suspend" refuses its deliveries, sends it nothing,
    /// fetches nothing from it and hides its accounts; "silence" keeps its
    /// accounts out of public timelines. Blocking again changes the severity.
    DomainBlock {
        #[arg(long)]
        domain: String,
        /// suspend or silence.
        #[arg(long, default_value = "suspend")]
        severity: String,
        /// Shown to the public with the block.
        #[arg(long, default_value = "")]
        public_comment: String,
        /// Seen only by admins.
        #[arg(long, default_value = "")]
        private_comment: String,
    },
    /// Recompute the office dashboards' activity figures from the stored
    /// posts, reactions, sign-ins and memberships.
    RebuildActivity,
    /// Lift a domain block (its accounts are restored).
    DomainUnblock {
        #[arg(long)]
        domain: String,
    },
    /// List blocked domains and, for allow-list mode, allowed ones.
    Domains,
    /// Allow a domain (only allowed domains federate in allow-list mode).
    DomainAllow {
        #[arg(long)]
        domain: String,
    },
    /// Remove a domain from the allow-list.
    DomainDisallow {
        #[arg(long)]
        domain: String,
    },
    /// Act on an account (user or user@host): none, silence or suspend;
    /// with --report, that report is resolved too.
    Moderate {
        #[arg(long)]
        account: String,
        #[arg(long)]
        action: String,
        #[arg(long)]
        report: Option<i64>,
    },
    /// Lift an account's suspension.
    Unsuspend {
        #[arg(long)]
        account: String,
    },
    /// Lift an account's silence.
    Unsilence {
        #[arg(long)]
        account: String,
    },
    /// Change instance settings (the others stay as they are); prints them all.
    Settings {
        #[arg(long)]
        title: Option<String>,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        contact_email: Option<String>,
        /// One rule per --rule; replaces all rules when given.
        #[arg(long)]
        rule: Vec<String>,
        /// closed, approval, invite or open.
        #[arg(long)]
        registration_mode: Option<String>,
        /// open, or allowlist (only allowed domains federate).
        #[arg(long)]
        federation_access: Option<String>,
    },
    /// Create an invitation code for registrations.mode = "invite".
    CreateInvite {
        /// How many accounts may use it (default: unlimited).
        #[arg(long)]
        max_uses: Option<i32>,
        /// Hours until it expires (default: never).
        #[arg(long)]
        expires_in_hours: Option<i64>,
    },
}

/// A closed-set value given on the command line, or a message naming the
/// option and what it accepts.
fn choice<T: std::str::FromStr<Err = crate::domain::UnknownValue>>(
    value: &str,
    option: &str,
) -> anyhow::Result<T> {
    value
        .trim()
        .to_lowercase()
        .parse()
        .map_err(|e: crate::domain::UnknownValue| anyhow::anyhow!("{option}: {e}"))
}

/// Runs the command; the exit code is 0 on success, 1 on a reported error, 2 on a configuration error.
pub fn run() -> i32 {
    let cli = Cli::parse();
    let config_path = match &cli.command {
        Command::Serve { config }
        | Command::Migrate { config }
        | Command::Admin { config, .. }
        | Command::Org { config, .. }
        | Command::Federation { config, .. } => config.clone(),
    };
    let config = match Config::load(config_path.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("tsunagu: {e}");
            return 2;
        }
    };
    init_logging(&config);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tsunagu: cannot start the runtime: {e}");
            return 1;
        }
    };
    match rt.block_on(dispatch(cli.command, config)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("tsunagu: {e:#}");
            1
        }
    }
}

fn init_logging(config: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.log.level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match config.log.format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
}

fn explain(e: ServiceError) -> anyhow::Error {
    match e {
        ServiceError::Internal(inner) => inner,
        other => anyhow::anyhow!("{other}"),
    }
}

async fn dispatch(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve { .. } => crate::app::serve(config).await,
        Command::Migrate { .. } => {
            let (ctx, applied) = crate::context(config).await?;
            if applied.is_empty() {
                println!("The {} database is up to date.", ctx.db.backend().name());
            } else {
                println!(
                    "Applied {} migration(s) to the {} database: {}",
                    applied.len(),
                    ctx.db.backend().name(),
                    applied.join(", ")
                );
            }
            Ok(())
        }
        Command::Admin { command, .. } => {
            let (ctx, _) = crate::context(config).await?;
            admin(&ctx, command).await
        }
        Command::Org {
            command:
                OrgCommand::Create {
                    username,
                    founder,
                    display_name,
                    club,
                },
            ..
        } => {
            let (ctx, _) = crate::context(config).await?;
            // From the shell the operator acts with administrator rights.
            let mut me = accounts::find_local_by_username(&ctx, &founder)
                .await
                .map_err(|_| anyhow::anyhow!("there is no local account named {founder:?}"))?;
            me.user.is_admin = true;
            let org = crate::services::orgs::create(
                &ctx,
                &me,
                crate::services::orgs::NewOrg {
                    username,
                    display_name,
                    note: None,
                    kind: Some(
                        if club {
                            OrgKind::Club
                        } else {
                            OrgKind::Official
                        }
                        .as_str()
                        .into(),
                    ),
                    parent_id: None,
                    locked: None,
                },
            )
            .await
            .map_err(explain)?;
            println!(
                "Created {} org @{} (id {}), run by @{founder}",
                org.org.kind, org.account.account.username, org.org.account_id
            );
            Ok(())
        }
        Command::Org {
            command: OrgCommand::ImportRoster { org, file },
            ..
        } => {
            let input: Box<dyn Read> = if file.as_os_str() == "-" {
                Box::new(std::io::stdin())
            } else {
                Box::new(std::fs::File::open(&file).map_err(|e| {
                    anyhow::anyhow!("cannot open the roster file {}: {e}", file.display())
                })?)
            };
            let (ctx, _) = crate::context(config).await?;
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} importing roster [{bar:40}] {pos}/{len} rows ({per_sec}, {eta} left)",
                )
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .progress_chars("=> "),
            );
            let progress = |done: u64, total: u64| {
                bar.set_length(total);
                bar.set_position(done);
            };
            let report = crate::services::roster::import(
                &ctx,
                &org,
                std::io::BufReader::new(input),
                &progress,
            )
            .await
            .map_err(explain)?;
            bar.finish_and_clear();
            println!(
                "Roster of {org}: {} rows read; {} added, {} updated, {} unchanged; {} members verified by e-mail; {} bad rows.",
                report.rows,
                report.added,
                report.updated,
                report.unchanged,
                report.verified,
                report.bad_rows.len()
            );
            for (line, why) in &report.bad_rows {
                println!("  line {line}: {why}");
            }
            Ok(())
        }
        Command::Federation {
            command: FederationCommand::Status,
            ..
        } => {
            let (ctx, _) = crate::context(config).await?;
            let (hosts, inbound) = crate::services::instance::federation_status(&ctx)
                .await
                .map_err(explain)?;
            println!(
                "{:<32} {:>7} {:>8} {:>10} {:>8}  {:<8} last error",
                "instance", "queued", "lag (s)", "delivered", "failures", "breaker"
            );
            for h in &hosts {
                let breaker = match h.breaker_open_until {
                    Some(t) => format!("open until {}", t.format("%Y-%m-%d %H:%M:%S")),
                    None => "closed".into(),
                };
                println!(
                    "{:<32} {:>7} {:>8} {:>10} {:>8}  {:<8} {}",
                    h.host,
                    h.queued,
                    h.lag_seconds.map_or("-".into(), |l| l.to_string()),
                    h.delivered,
                    h.failures,
                    breaker,
                    h.last_error.as_deref().unwrap_or("-")
                );
            }
            if hosts.is_empty() {
                println!("(no remote instance has been delivered to yet)");
            }
            println!("inbound activities waiting: {inbound}");
            Ok(())
        }
    }
}

async fn admin(ctx: &Ctx, command: AdminCommand) -> anyhow::Result<()> {
    match command {
        AdminCommand::CreateUser {
            username,
            email,
            admin,
            password_stdin,
        } => {
            let (password, generated) = if password_stdin {
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s)?;
                let line = s.lines().next().unwrap_or_default().to_owned();
                if line.is_empty() {
                    anyhow::bail!("--password-stdin: standard input held no password");
                }
                (line, false)
            } else {
                (crate::crypto::generate_password(), true)
            };
            let account = accounts::create_from_shell(ctx, &username, &email, &password, admin)
                .await
                .map_err(explain)?;
            let role = if account.user.is_admin {
                "administrator"
            } else {
                "account"
            };
            println!(
                "Created {role} @{} (id {}).",
                account.account.username, account.account.id
            );
            if generated {
                println!("Password (shown only once): {password}");
            }
            Ok(())
        }
        AdminCommand::Approve { username } => {
            let account = accounts::find_local_by_username(ctx, &username)
                .await
                .map_err(explain)?;
            let account = accounts::approve(ctx, account.account.id)
                .await
                .map_err(explain)?;
            println!("Approved @{}.", account.account.username);
            Ok(())
        }
        AdminCommand::DeleteAccount { username } => {
            crate::services::accounts::delete_local_account(ctx, &username)
                .await
                .map_err(explain)?;
            // The serving node(s) send the queued Delete (they look every few seconds).
            println!("Deleted {username}; the running server tells other instances.");
            Ok(())
        }
        AdminCommand::Pending => {
            let list = accounts::list_pending(ctx).await.map_err(explain)?;
            if list.is_empty() {
                println!("No accounts are waiting for approval.");
            }
            for me in list {
                println!(
                    "@{}\t{}\t{}",
                    me.account.username,
                    me.user.email,
                    me.user.registration_reason.unwrap_or_default()
                );
            }
            Ok(())
        }
        AdminCommand::Reports => {
            let list = crate::services::moderation::reports(ctx, false)
                .await
                .map_err(explain)?;
            if list.is_empty() {
                println!("No open reports.");
            }
            for r in list {
                let who = |a: &crate::db::models::Account| match &a.domain {
                    Some(d) => format!("@{}@{d}", a.username),
                    None => format!("@{}", a.username),
                };
                println!(
                    "{}\t{}\treported by {}\t{}\tstatuses {}\t{}",
                    r.report.id,
                    who(&r.target),
                    who(&r.reporter),
                    r.report.category,
                    r.report.status_ids,
                    r.report.comment.replace(['\n', '\t'], " ")
                );
            }
            Ok(())
        }
        AdminCommand::ResolveReport { id } => {
            crate::services::moderation::resolve_report(ctx, None, id)
                .await
                .map_err(explain)?;
            println!("Report {id} resolved.");
            Ok(())
        }
        AdminCommand::Announce {
            text,
            ends_in_hours,
        } => {
            if ends_in_hours.is_some_and(|h| h < 1) {
                anyhow::bail!("--ends-in-hours must be at least 1");
            }
            let a = crate::services::organize::announce(ctx, &text, ends_in_hours)
                .await
                .map_err(explain)?;
            println!("Published announcement {}.", a.id);
            Ok(())
        }
        AdminCommand::DomainBlock {
            domain,
            severity,
            public_comment,
            private_comment,
        } => {
            let severity = choice(&severity, "--severity")?;
            let b = moderation::block_domain(
                ctx,
                None,
                moderation::NewDomainBlock {
                    update: true,
                    domain,
                    severity,
                    public_comment,
                    private_comment,
                },
            )
            .await
            .map_err(explain)?;
            println!("Blocked {} ({}).", b.domain, b.severity);
            Ok(())
        }
        AdminCommand::RebuildActivity => {
            let started = std::time::Instant::now();
            crate::services::stats::rebuild(ctx)
                .await
                .map_err(explain)?;
            println!(
                "Activity figures rebuilt in {:.1} s.",
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        AdminCommand::DomainUnblock { domain } => {
            let domain = moderation::domain_name(ctx, &domain).map_err(explain)?;
            let blocks = moderation::domain_blocks(ctx).await.map_err(explain)?;
            let Some(b) = blocks.into_iter().find(|b| b.domain == domain) else {
                anyhow::bail!("{domain} is not blocked (see `tsunagu admin domains`)");
            };
            moderation::unblock_domain(ctx, None, b.id)
                .await
                .map_err(explain)?;
            println!("Unblocked {domain}.");
            Ok(())
        }
        AdminCommand::Domains => {
            let settings = ctx.settings();
            println!("Federation: {}", settings.domains.access);
            for b in moderation::domain_blocks(ctx).await.map_err(explain)? {
                println!(
                    "blocked\t{}\t{}\t{}",
                    b.domain, b.severity, b.private_comment
                );
            }
            for a in moderation::domain_allows(ctx).await.map_err(explain)? {
                println!("allowed\t{}", a.domain);
            }
            Ok(())
        }
        AdminCommand::DomainAllow { domain } => {
            let a = moderation::allow_domain(ctx, None, &domain)
                .await
                .map_err(explain)?;
            println!("Allowed {}.", a.domain);
            Ok(())
        }
        AdminCommand::DomainDisallow { domain } => {
            let domain = moderation::domain_name(ctx, &domain).map_err(explain)?;
            let allows = moderation::domain_allows(ctx).await.map_err(explain)?;
            let Some(a) = allows.into_iter().find(|a| a.domain == domain) else {
                anyhow::bail!("{domain} is not on the allow-list (see `tsunagu admin domains`)");
            };
            moderation::disallow_domain(ctx, None, a.id)
                .await
                .map_err(explain)?;
            println!("Removed {domain} from the allow-list.");
            Ok(())
        }
        AdminCommand::Moderate {
            account,
            action,
            report,
        } => {
            let action = choice(&action, "--action")?;
            let target = moderation::account_by_acct(ctx, &account)
                .await
                .map_err(explain)?;
            moderation::act(ctx, None, target.id, action, report)
                .await
                .map_err(explain)?;
            println!("{action}: @{}.", target.acct_key);
            Ok(())
        }
        AdminCommand::Unsuspend { account } => {
            let target = moderation::account_by_acct(ctx, &account)
                .await
                .map_err(explain)?;
            moderation::unsuspend(ctx, None, target.id)
                .await
                .map_err(explain)?;
            println!("@{} is no longer suspended.", target.acct_key);
            Ok(())
        }
        AdminCommand::Unsilence { account } => {
            let target = moderation::account_by_acct(ctx, &account)
                .await
                .map_err(explain)?;
            moderation::unsilence(ctx, None, target.id)
                .await
                .map_err(explain)?;
            println!("@{} is no longer silenced.", target.acct_key);
            Ok(())
        }
        AdminCommand::Settings {
            title,
            description,
            contact_email,
            rule,
            registration_mode,
            federation_access,
        } => {
            let now = ctx.settings();
            let change = moderation::SettingsChange {
                title: title.unwrap_or_else(|| now.title.clone()),
                description: description.unwrap_or_else(|| now.description.clone()),
                contact_email: contact_email.unwrap_or_else(|| now.contact_email.clone()),
                rules: if rule.is_empty() {
                    now.rules.clone()
                } else {
                    rule
                },
                registration_mode: match registration_mode {
                    Some(m) => choice(&m, "--registration-mode")?,
                    None => now.registration_mode,
                },
                federation_access: match federation_access {
                    Some(m) => choice(&m, "--federation-access")?,
                    None => now.domains.access,
                },
            };
            moderation::update_settings(ctx, None, change)
                .await
                .map_err(explain)?;
            let s = ctx.settings();
            println!("title: {}", s.title);
            println!("description: {}", s.description);
            println!("contact_email: {}", s.contact_email);
            println!("registration_mode: {}", s.registration_mode);
            println!("federation_access: {}", s.domains.access);
            for (i, r) in s.rules.iter().enumerate() {
                println!("rule {}: {r}", i + 1);
            }
            Ok(())
        }
        AdminCommand::CreateInvite {
            max_uses,
            expires_in_hours,
        } => {
            if max_uses.is_some_and(|m| m < 1) {
                anyhow::bail!("--max-uses must be at least 1");
            }
            if expires_in_hours.is_some_and(|h| h < 1) {
                anyhow::bail!("--expires-in-hours must be at least 1");
            }
            let invite = accounts::create_invite(
                ctx,
                None,
                max_uses,
                expires_in_hours.map(chrono::Duration::hours),
            )
            .await
            .map_err(explain)?;
            println!("Invitation code: {}", invite.code);
            Ok(())
        }
    }
}
