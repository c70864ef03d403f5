/**
 * The message catalog. Ids are stable; `error.<code>` entries render an
 * OrioleError of that code, with the error's details as `{placeholders}`.
 * The Chinese catalog is typed against the English one, so a missing
 * translation is a compile error; a test checks that placeholders agree.
 */
export const MESSAGES_EN = {
  "error.prefix": "error",
  "error.wrong_pin": "wrong PIN (or the keystore file was altered); nothing was changed",
  "error.weak_pin": "the PIN must have at least {min} characters",
  "error.pin_mismatch": "the two PINs differ; nothing was written",
  "error.pin_required": "no PIN given: set ORIOLE_PIN or run in a terminal",
  "error.key_required": "no private key given: set ORIOLE_PRIVATE_KEY or run in a terminal",
  "error.invalid_private_key": "not a valid secp256k1 private key (expected 32 bytes as 64 hex digits)",
  "error.cancelled": "cancelled; nothing was changed",
  "error.no_wallet": "no wallet at {file}: run `oriole wallet create` or `oriole wallet import`",
  "error.wallet_exists": "a wallet already exists at {file}; nothing was changed (use --force to replace it)",
  "error.invalid_keystore": "{file} is not a valid Oriole keystore: {reason}",
  "error.unsupported_key_type": "this command cannot use a {keyType} key",
  "error.invalid_scrypt_n": "ORIOLE_SCRYPT_N must be a power of two from {min} to {max}",
  "error.unknown_currency": "unknown currency \"{currency}\": use one of {currencies}",
  "error.invalid_address": "\"{address}\" is not a valid address (check the characters and the checksum)",
  "error.invalid_reference": "\"{reference}\" is not a payment reference (0x and 64 hex digits)",
  "error.invalid_amount": "\"{amount}\" is not a valid amount: use a number greater than 0 with at most 6 decimals, e.g. 12.5",
  "error.insufficient_funds": "insufficient funds: the balance is {balance} {currency}, the payment {amount} {currency}; nothing was sent",
  "error.insufficient_gas": "{address} has too little native coin to pay the network fee; nothing was sent",
  "error.node_unreachable": "cannot reach the Oriole node at {url}",
  "error.rpc_unreachable": "cannot reach the chain's JSON-RPC at {url}",
  "error.chain_mismatch": "the node serves chain {nodeChainId} but the RPC is chain {rpcChainId}; nothing was sent",
  "error.invalid_response": "the node at {url} sent a response this client does not understand",
  "error.node_error": "the node answered HTTP {status}",
  "error.tx_failed": "the transaction {txHash} failed on chain",
  "error.tx_rejected": "the token contract would reject this transfer ({reason}); nothing was sent",
  "error.rpc_error": "the chain's JSON-RPC at {url} failed: {reason}",
  "error.internal": "unexpected error: {message}",
  "error.admin_token_missing": "no admin token: set ORIOLE_ADMIN_TOKEN or pass --admin-token-file (none readable at {file})",
  "error.unauthorized": "the node refused the credentials: check the admin token (or API key)",
  "error.forbidden": "the node refused: these credentials may not do this",
  "error.rate_limited": "the node is rate limiting these requests; retry in a moment",

  "usage.unknownCommand": "unknown command \"{command}\" (see oriole --help)",
  "usage.missingCommand": "missing command (see {help})",
  "usage.unknownOption": "unknown option {option} for \"{command}\" (see {help})",
  "usage.missingValue": "option {option} needs a value",
  "usage.unexpectedValue": "option {option} takes no value",
  "usage.missingArgument": "missing argument <{name}> (see oriole {command} --help)",
  "usage.extraArgument": "unexpected argument \"{value}\" (see oriole {command} --help)",
  "usage.invalidLimit": "--limit must be a whole number from 1 to {max}",
  "usage.payArguments": "pay needs <to> <amount> <currency>, or a payment request URI alone (see oriole pay --help)",
  "usage.invalidUrl": "{option} must be an http(s) URL, not \"{value}\"",
  "usage.invalidLang": "--lang must be en or zh, not \"{value}\"",
  "usage.privateKeyArgument": "a private key is never taken from the command line: set ORIOLE_PRIVATE_KEY or type it when asked",
  "usage.missingOption": "missing option {option} (see oriole {command} --help)",

  "prompt.pin": "PIN: ",
  "prompt.newPin": "New PIN (at least {min} characters): ",
  "prompt.repeatPin": "Repeat the PIN: ",
  "prompt.privateKey": "Private key (hex, not shown): ",

  "warn.weakScrypt": "warning: ORIOLE_SCRYPT_N={n} makes this keystore cheaper to attack than the default {default}; use it for tests only",
  "wallet.created": "Wallet created: {address}\nKeystore: {file}",
  "wallet.createdPasskey": "Passkey wallet created: {address}\nIts device key (P-256) is encrypted in {file}; the account is deployed by its first payment.",
  "wallet.createdPasskeyOffline": "Passkey wallet created; its device key (P-256) is encrypted in {file}.\nThe node could not be reached: run `oriole wallet address` to see the account's address.",
  "wallet.imported": "Wallet imported: {address}\nKeystore: {file}",
  "balance.header": "Balances of {address} (indexed to block {block}):",
  "invoice.summary": "{id}  {amount} {currency}  {status}  received {received}  refundable {refundable}  expires {expiresAt}  {description}",
  "invoice.uri": "Pay: {uri}",
  "invoice.listEmpty": "No invoices.",
  "invoice.more": "More: oriole invoice list --cursor {cursor}",
  "invoice.status.open": "open",
  "invoice.status.partially_paid": "partially paid",
  "invoice.status.paid": "paid",
  "invoice.status.expired": "expired",
  "error.api_key_missing": "no merchant API key: set ORIOLE_API_KEY or pass --merchant-key-file FILE",
  "usage.invalidExpiresIn": "--expires-in must be whole seconds from 1 to 2592000 (30 days), not \"{value}\"",
  "usage.invalidStatus": "--status must be one of {statuses}, not \"{value}\"",
  "merchant.created": "Merchant created: {id} ({name}), paid to {payout}\nAPI key (shown this once; store it now): {apiKey}",
  // Refunds, settlement reports and escrow (issue 6).
  "error.invalid_payment": "\"{payment}\" is not a payment: use <txHash>:<logIndex> (see oriole history)",
  "error.refund_exceeds_payment": "that is more than the payment has left to refund; nothing was created",
  "error.refund_already_paid": "a payment of this refund is already on the chain: it can no longer be cancelled",
  "error.escrow_not_found": "no escrow {id}",
  "refund.shown": "Refund {id}: {amount} {currency} to {to}, {status} (paid {paid})\nOf payment {payment}\nRequest for the payout's wallet: {uri}",
  "report.header": "Settlement of {date} (UTC), payout {payout}:",
  "report.line": "  {currency}: gross {gross}, fees {fees}, refunds {refunds}, net {net} ({payments} payments, {refundPayments} refunds)",
  "report.empty": "  no settlement activity",
  "escrow.shown": "Escrow {id}: {status}, holds {amount} {currency}\nBuyer {buyer}, merchant {merchant}",
  "escrow.sent": "Escrow {id}: {action} done, now {status}\nTransaction: {txHash}",
  "help.refund":
    "Usage: oriole refund create --payment TX:LOG --amount A [--reason R] [--pay] [options]\n" +
    "       oriole refund show <id> [options]\n" +
    "       oriole refund cancel <id> [options]\n\n" +
    "Refunds (part of) a payment the merchant received; never more than was paid.\n" +
    "cancel: withdraws a refund nothing was paid to yet (it then no longer counts).\n" +
    "{merchantKey}\n\n" +
    "  --payment TX:LOG        the payment (transaction hash and log index, from oriole history)\n" +
    "  --amount A              the amount to refund, e.g. 2.5\n" +
    "  --reason R              a note kept with the refund\n" +
    "  --pay                   pay it at once from this wallet (the merchant's payout)\n" +
    "  --idempotency-key K     retry safely: the same key never refunds twice",
  "help.report":
    "Usage: oriole report daily --date YYYY-MM-DD [--currency C] [--csv] [options]\n\n" +
    "The merchant's settlement of one UTC day: gross, fees, refunds and net per currency.\n" +
    "{merchantKey}\n\n" +
    "  --csv   print the CSV (line items and totals, base units)",
  "help.escrow":
    "Usage: oriole escrow fund --merchant ADDRESS --amount A --currency C --order ORDER\n" +
    "                          [--release-timeout S] [--dispute-window S] [options]\n" +
    "       oriole escrow ship|release|dispute <id> [options]\n" +
    "       oriole escrow refund <id> --amount A [options]\n" +
    "       oriole escrow offer|accept <id> --buyer-amount A --merchant-amount B [options]\n" +
    "       oriole escrow show <id> [options]\n\n" +
    "Escrow for goods delivered later. An EOA wallet sends its own transactions; a\n" +
    "passkey wallet signs (ERC-1271) and the node relays: fund as an ERC-3009\n" +
    "authorization, the other verbs as signed actions. An EOA's fund approves and pays\n" +
    "into escrow (release timeout default 7 days, dispute window default 3 days);\n" +
    "the merchant ships and may refund or offer a settlement; the buyer releases,\n" +
    "disputes or accepts.",
  "pay.checking": "Checking the balance and the network…",
  "pay.sending": "Sending {amount} {currency} to {to}…",
  "pay.done": "Paid {amount} {currency} to {to}\nTransaction: {txHash}\nBlock: {block}",
  "history.header": "Payments of {address}:",
  "history.empty": "No payments.",
  "history.in": "in",
  "history.out": "out",
  "history.self": "self",
  "history.from": "from",
  "history.to": "to",
  "history.ref": "ref {ref}",
  "history.fee": "fee {fee}",
  "history.feeTransfer": "(merchant fee)",
  "history.more": "More: oriole history {address} --cursor {cursor}",

  "help.main":
    "oriole: the Oriole command-line wallet\n\n" +
    "Usage: oriole <command> [arguments] [options]\n\n" +
    "Commands:\n" +
    "  wallet create           create a new wallet (a key encrypted with a PIN)\n" +
    "  wallet import           import an existing private key\n" +
    "  wallet address          show the wallet's address\n" +
    "  balance [address]       show balances per currency\n" +
    "  pay <to> <amount> <currency>   send a payment\n" +
    "  history [address]       show payments, newest first\n" +
    "  merchant create         create a merchant on the node (admin)\n" +
    "  offline …               offline payments: reserve, code, withdraw, sync, accept, list, settle\n" +
    "  invoice create|show|list   invoices: a payment URI and QR code (merchant)\n" +
    "  refund create|show|cancel  refund a payment the merchant received\n" +
    "  report daily            the merchant's daily settlement report\n" +
    "  escrow fund|ship|release|refund|dispute|offer|accept|show   escrow\n\n" +
    "Run oriole <command> --help for details.",
  "help.wallet":
    "Usage: oriole wallet <create|import|address> [options]\n\n" +
    "  create    create a new wallet (a key encrypted with a PIN)\n" +
    "  import    import an existing private key\n" +
    "  address   show the wallet's address",
  "help.invoice":
    "Usage: oriole invoice <create|show|list> [options]\n\n" +
    "  create    create an invoice and print its payment URI and QR code (merchant)\n" +
    "  show      show one invoice and its status\n" +
    "  list      list invoices, newest first",
  "help.invoice.create":
    "Usage: oriole invoice create --amount A --currency C --description D [--expires-in S] [--order-id O] [options]\n\n" +
    "Creates an invoice on the node and prints its EIP-681 payment URI and a QR\n" +
    "code any wallet can scan.\n" +
    "{merchantKey}\n\n" +
    "  --amount A        a decimal such as 12.5 (at most 6 decimals)\n" +
    "  --currency C      {currencies}\n" +
    "  --description D   what is sold (at most 200 characters)\n" +
    "  --expires-in S    seconds until it expires (default 900)\n" +
    "  --order-id O      your order id",
  "help.invoice.show": "Usage: oriole invoice show <id> [options]\n\nShows an invoice: amount, status (open, partially paid, paid, expired), amount received and refundable.\n{merchantKey}",
  "help.invoice.list":
    "Usage: oriole invoice list [--status S] [--limit N] [--cursor C] [options]\n\n" +
    "{merchantKey}\n\n" +
    "  --status S   open, partially_paid, paid or expired\n" +
    "  --limit N    at most N invoices (1 to {maxLimit})\n" +
    "  --cursor C   continue from a previous page",
  "help.merchantKey": "The merchant API key comes from ORIOLE_API_KEY or --merchant-key-file FILE (never the key itself on the command line: shell history and ps would show it).",
  "help.merchant": "Usage: oriole merchant create --name N --payout ADDRESS [options]\n\n  create    create a merchant and print its API key once (admin)",
  "help.offline":
    "Usage: oriole offline <reserve|code|withdraw|sync|accept|list|settle> [arguments] [options]\n\n" +
    "Payer:\n" +
    "  reserve <amount> <currency>            set aside an offline allowance in the vault (online)\n" +
    "  code <merchant> <amount> <currency>    sign a payment code, with no network\n" +
    "  withdraw <amount> <currency>           ask for part of the allowance back (online, 7 days' notice)\n" +
    "  withdraw --complete <currency>         take it back once the notice has passed (online)\n" +
    "Merchant:\n" +
    "  sync                                   read the payers' allowances from the chain (online)\n" +
    "  accept <code>                          check a payer's code with no network and keep it\n" +
    "  list                                   show the collected codes and their status\n" +
    "  settle                                 settle every collected code in one batch (online)",
  "help.offline.reserve":
    "Usage: oriole offline reserve <amount> <currency> [--deployment FILE] [options]\n\n" +
    "Moves <amount> of <currency> into the OfflineVault: offline codes draw on it, and a code a merchant\n" +
    "accepted within it cannot bounce. Withdrawing takes 7 days of notice. A passkey wallet signs an\n" +
    "ERC-3009 authorization instead and the node (--api) submits it.\n" +
    "--deployment FILE: the deployment file (default deployments/<chainId>.json).",
  "help.offline.code":
    "Usage: oriole offline code <merchant> <amount> <currency> [--valid-for SECONDS] [options]\n\n" +
    "Signs a payment code for <merchant>, with no network, and prints it (oriole-offline:…) for the\n" +
    "merchant to scan. Valid for 900 s unless --valid-for says otherwise (at most a day).",
  "help.offline.withdraw":
    "Usage: oriole offline withdraw <amount> <currency> [--deployment FILE] [options]\n" +
    "       oriole offline withdraw --complete <currency> [--deployment FILE] [options]\n\n" +
    "Asks the OfflineVault for <amount> of your <currency> allowance back. Merchants may still accept\n" +
    "codes on the allowance they last synced, so the tokens come back only after the vault's withdrawal\n" +
    "delay (7 days): then run it again with --complete. A new request replaces a pending one and restarts\n" +
    "the delay. Nothing comes back while bounced codes are owed. A passkey wallet signs the request\n" +
    "(ERC-1271) and the node (--api) submits it and the completion.",
  "help.offline.sync":
    "Usage: oriole offline sync [--deployment FILE] [options]\n\n" +
    "Reads every payer's offline allowance, default and device keys from the chain, for offline checks.\n" +
    "Sync at least every 3 days: older allowances are not trusted.",
  "help.offline.accept":
    "Usage: oriole offline accept <code> [options]\n\n" +
    "Checks a payer's code with no network (signature, chain, vault, currency, validity, allowance,\n" +
    "nonce) and stores it on disk before answering.",
  "help.offline.list": "Usage: oriole offline list [options]\n\nShows the collected codes: accepted, settled, bounced (beyond the payer's allowance) or failed.",
  "help.offline.settle":
    "Usage: oriole offline settle [options]\n\n" +
    "Settles every collected code in batches of 100 (one transaction each, signed by the merchant's\n" +
    "wallet) and shows each code's outcome.",
  "offline.reserved": "Reserved {amount} {currency} for offline payments in {vault}\nTransaction: {txHash}",
  "offline.withdrawalRequested": "Asked to withdraw {amount} {currency} from the offline allowance; complete it from {unlockAt} with oriole offline withdraw --complete {currency}\nTransaction: {txHash}",
  "offline.withdrawn": "Withdrew {amount} {currency} from the offline allowance\nTransaction: {txHash}",
  "offline.code": "Payment code for {amount} {currency} to {merchant} (show it as a QR code):\n{code}",
  "offline.synced": "Synced {payers} offline allowances at block {block} ({defaulted} in default)",
  "offline.accepted": "Accepted {amount} {currency} from {payer}",
  "offline.none": "No offline codes collected",
  "offline.settled": "{settled} of {total} codes settled in {txs} transaction(s)",
  "error.offline_not_synced": "no offline data yet: run `oriole offline sync` (merchant) or `oriole offline reserve` (payer) while online",
  "error.invalid_offline_code": "this is not a valid offline payment code",
  "error.offline_bad_signature": "the code's signature is not the payer's: refuse it",
  "error.offline_allowance_exceeded": "the payer's offline allowance left is {left}: refuse the code",
  "error.offline_payer_defaulted": "the payer owes {debt} for bounced codes: refuse the code",
  "error.offline_expired": "the code has expired",
  "error.offline_nonce_seen": "a code with this nonce from this payer was already accepted",
  "error.offline_duplicate": "this code was already collected",
  "error.offline_stale_sync": "the last sync is too old: run `oriole offline sync` first",
  "error.withdrawal_exceeds_reserve": "only {reserved} base units are reserved",
  "error.no_withdrawal": "no withdrawal was requested: run oriole offline withdraw <amount> <currency> first",
  "error.withdrawal_locked": "the withdrawal can be completed from {unlockAt}",
  "error.offline_payer_in_default": "the allowance owes {debt} base units for bounced codes: reserve again to repay them first",
  "help.merchant.create":
    "Usage: oriole merchant create --name N --payout ADDRESS [--admin-token-file FILE] [options]\n\n" +
    "Creates a merchant on the node and prints its API key. The key is shown\n" +
    "this once (the node stores only its hash): store it now.\n\n" +
    "  --name N                 the merchant's name (1 to 100 characters)\n" +
    "  --payout ADDRESS         the address the merchant is paid to\n" +
    "  --admin-token-file FILE  the node's admin token (default: ORIOLE_ADMIN_TOKEN,\n" +
    "                           else .oriole/node-data/admin-token, where npm start keeps it)",
  "help.wallet.create":
    "Usage: oriole wallet create [--passkey] [--force] [options]\n\n" +
    "Generates a new key and stores it encrypted with a PIN\n" +
    "(asked twice without echo, or taken from ORIOLE_PIN; at least 6 characters).\n\n" +
    "  --passkey  a passkey smart account (as the web wallet makes) with a software\n" +
    "             P-256 device key; the PIN stands in for the phone's biometrics and\n" +
    "             payments go through the node's relayer (default: a secp256k1 key)\n" +
    "  --force    replace an existing keystore (its key is lost unless backed up)",
  "help.wallet.import":
    "Usage: oriole wallet import [--force] [options]\n\n" +
    "Imports an existing private key, typed without echo or taken from\n" +
    "ORIOLE_PRIVATE_KEY (never from the command line), and stores it encrypted\n" +
    "with a PIN (asked twice, or taken from ORIOLE_PIN).\n\n" +
    "  --force   replace an existing keystore (its key is lost unless backed up)",
  "help.wallet.address": "Usage: oriole wallet address [options]\n\nShows the wallet's address (no PIN needed).",
  "help.balance":
    "Usage: oriole balance [address] [options]\n\n" +
    "Shows the balance in every currency, as indexed by the Oriole node.\n" +
    "Without an address, shows the wallet's own.",
  "help.pay":
    "Usage: oriole pay <to> <amount> <currency> [--reference R] [options]\n" +
    "       oriole pay <payment request URI> [options]\n\n" +
    "Pays <amount> (a decimal such as 12.5, at most 6 decimals) of <currency>\n" +
    "({currencies}) to the address <to>, or what an EIP-681 payment request\n" +
    "(ethereum:<token>@<chain>/transfer?address=…&uint256=…&reference=…) asks.\n" +
    "Asks for the PIN (or takes ORIOLE_PIN), checks the balance before sending\n" +
    "anything, and waits until the payment is on-chain. A passkey wallet signs\n" +
    "an intent and pays through the node's relayer (plus the relayer's fee).\n\n" +
    "  --reference R   a bytes32 payment reference (0x and 64 hex digits)",
  "help.history":
    "Usage: oriole history [address] [--limit N] [--cursor C] [options]\n\n" +
    "Shows payments, newest first. Without an address, shows the wallet's own.\n\n" +
    "  --limit N    at most N payments (1 to {maxLimit})\n" +
    "  --cursor C   continue from a previous page",
  "help.options":
    "Options:\n" +
    "  --json            machine-readable output on stdout (errors too)\n" +
    "  --keystore PATH   keystore file (ORIOLE_KEYSTORE; default ~/.oriole/keystore.json)\n" +
    "  --api URL         Oriole node API (ORIOLE_API_URL; default http://127.0.0.1:8787)\n" +
    "  --rpc URL         chain JSON-RPC (ORIOLE_RPC_URL; default http://127.0.0.1:8545)\n" +
    "  --lang en|zh      language of messages (default from LC_ALL / LANG)\n" +
    "  -h, --help        show help\n\n" +
    "Exit codes: 0 success, 1 error, 2 usage error.",
} as const;

export type MessageId = keyof typeof MESSAGES_EN;

export const MESSAGES_ZH: Readonly<Record<MessageId, string>> = {
  "error.prefix": "错误",
  "error.wrong_pin": "PIN 错误（或密钥库文件已被改动）；未做任何更改",
  "error.weak_pin": "PIN 至少需要 {min} 个字符",
  "error.pin_mismatch": "两次输入的 PIN 不一致；未写入任何文件",
  "error.pin_required": "未提供 PIN：请设置 ORIOLE_PIN 或在终端中运行",
  "error.key_required": "未提供私钥：请设置 ORIOLE_PRIVATE_KEY 或在终端中运行",
  "error.invalid_private_key": "不是有效的 secp256k1 私钥（应为 32 字节，即 64 个十六进制字符）",
  "error.cancelled": "已取消；未做任何更改",
  "error.no_wallet": "{file} 处没有钱包：请运行 `oriole wallet create` 或 `oriole wallet import`",
  "error.wallet_exists": "{file} 处已有钱包；未做任何更改（如需替换请使用 --force）",
  "error.invalid_keystore": "{file} 不是有效的 Oriole 密钥库：{reason}",
  "error.unsupported_key_type": "此命令无法使用 {keyType} 类型的密钥",
  "error.invalid_scrypt_n": "ORIOLE_SCRYPT_N 必须是 {min} 到 {max} 之间的 2 的幂",
  "error.unknown_currency": "未知币种“{currency}”：可用币种为 {currencies}",
  "error.invalid_address": "“{address}”不是有效地址（请检查字符和校验和）",
  "error.invalid_reference": "“{reference}”不是付款参考号（0x 加 64 位十六进制）",
  "error.invalid_amount": "“{amount}”不是有效金额：请输入大于 0、最多 6 位小数的数字，例如 12.5",
  "error.insufficient_funds": "余额不足：余额为 {balance} {currency}，付款金额为 {amount} {currency}；未发送任何交易",
  "error.insufficient_gas": "{address} 的原生币不足以支付网络手续费；未发送任何交易",
  "error.admin_token_missing": "没有管理员令牌：请设置 ORIOLE_ADMIN_TOKEN 或使用 --admin-token-file（{file} 不可读）",
  "error.unauthorized": "节点拒绝了凭据：请检查管理员令牌（或 API 密钥）",
  "error.forbidden": "节点拒绝：这些凭据无权执行此操作",
  "error.rate_limited": "节点正在限制请求频率；请稍后重试",
  "error.node_unreachable": "无法连接 Oriole 节点 {url}",
  "error.rpc_unreachable": "无法连接链的 JSON-RPC {url}",
  "error.chain_mismatch": "节点服务的是链 {nodeChainId}，而 RPC 是链 {rpcChainId}；未发送任何交易",
  "error.invalid_response": "节点 {url} 返回了本客户端无法识别的响应",
  "error.node_error": "节点返回 HTTP {status}",
  "error.tx_failed": "交易 {txHash} 在链上执行失败",
  "error.tx_rejected": "代币合约会拒绝这笔转账（{reason}）；未发送任何交易",
  "error.rpc_error": "链的 JSON-RPC {url} 出错：{reason}",
  "error.internal": "意外错误：{message}",

  "usage.unknownCommand": "未知命令“{command}”（参见 oriole --help）",
  "usage.missingCommand": "缺少命令（参见 {help}）",
  "usage.unknownOption": "命令“{command}”没有选项 {option}（参见 {help}）",
  "usage.missingValue": "选项 {option} 需要一个值",
  "usage.unexpectedValue": "选项 {option} 不接受值",
  "usage.missingArgument": "缺少参数 <{name}>（参见 oriole {command} --help）",
  "usage.extraArgument": "多余的参数“{value}”（参见 oriole {command} --help）",
  "usage.invalidLimit": "--limit 必须是 1 到 {max} 之间的整数",
  "usage.payArguments": "pay 需要 <收款地址> <金额> <币种>，或单独一个收款请求 URI（参见 oriole pay --help）",
  "usage.invalidUrl": "{option} 必须是 http(s) URL，而不是“{value}”",
  "usage.invalidLang": "--lang 只能是 en 或 zh，而不是“{value}”",
  "usage.privateKeyArgument": "私钥绝不从命令行读取：请设置 ORIOLE_PRIVATE_KEY 或在提示时输入",
  "usage.missingOption": "缺少选项 {option}（参见 oriole {command} --help）",

  "prompt.pin": "PIN：",
  "prompt.newPin": "新 PIN（至少 {min} 个字符）：",
  "prompt.repeatPin": "再次输入 PIN：",
  "prompt.privateKey": "私钥（十六进制，输入不显示）：",

  "warn.weakScrypt": "警告：ORIOLE_SCRYPT_N={n} 使密钥库比默认值 {default} 更容易被破解；仅用于测试",
  "wallet.created": "钱包已创建：{address}\n密钥库：{file}",
  "wallet.createdPasskey": "通行密钥钱包已创建：{address}\n设备密钥（P-256）已加密保存在 {file}；账户将在第一次付款时部署。",
  "wallet.createdPasskeyOffline": "通行密钥钱包已创建；设备密钥（P-256）已加密保存在 {file}。\n无法连接节点：请运行 `oriole wallet address` 查看账户地址。",
  "wallet.imported": "钱包已导入：{address}\n密钥库：{file}",
  "balance.header": "{address} 的余额（已索引至区块 {block}）：",
  "pay.checking": "正在检查余额和网络……",
  "pay.sending": "正在向 {to} 发送 {amount} {currency}……",
  "pay.done": "已向 {to} 支付 {amount} {currency}\n交易：{txHash}\n区块：{block}",
  "invoice.summary": "{id}  {amount} {currency}  {status}  已收 {received}  可退 {refundable}  到期 {expiresAt}  {description}",
  "invoice.uri": "付款：{uri}",
  "invoice.listEmpty": "没有账单。",
  "invoice.more": "更多：oriole invoice list --cursor {cursor}",
  "invoice.status.open": "待付款",
  "invoice.status.partially_paid": "部分付款",
  "invoice.status.paid": "已付款",
  "invoice.status.expired": "已过期",
  "error.api_key_missing": "没有商户 API 密钥：请设置 ORIOLE_API_KEY 或使用 --merchant-key-file 文件",
  "usage.invalidExpiresIn": "--expires-in 必须是 1 到 2592000（30 天）之间的整数秒，而不是“{value}”",
  "usage.invalidStatus": "--status 必须是 {statuses} 之一，而不是“{value}”",
  "merchant.created": "商户已创建：{id}（{name}），收款地址 {payout}\nAPI 密钥（仅显示这一次，请立即保存）：{apiKey}",
  "error.invalid_payment": "“{payment}”不是一笔付款：请使用 <交易哈希>:<日志序号>（见 oriole history）",
  "error.refund_exceeds_payment": "超出了这笔付款剩余可退的金额；未创建退款",
  "error.refund_already_paid": "这笔退款已有链上付款，无法再撤销",
  "error.escrow_not_found": "没有托管 {id}",
  "refund.shown": "退款 {id}：{amount} {currency} 退给 {to}，{status}（已付 {paid}）\n原付款 {payment}\n收款钱包需支付的请求：{uri}",
  "report.header": "{date}（UTC）的结算，收款地址 {payout}：",
  "report.line": "  {currency}：总额 {gross}，手续费 {fees}，退款 {refunds}，净额 {net}（{payments} 笔付款，{refundPayments} 笔退款）",
  "report.empty": "  没有结算活动",
  "escrow.shown": "托管 {id}：{status}，持有 {amount} {currency}\n买家 {buyer}，商户 {merchant}",
  "escrow.sent": "托管 {id}：{action} 已完成，现为 {status}\n交易：{txHash}",
  "help.refund":
    "用法：oriole refund create --payment 交易:日志 --amount 金额 [--reason 原因] [--pay] [选项]\n" +
    "      oriole refund show <id> [选项]\n" +
    "      oriole refund cancel <id> [选项]\n\n" +
    "退还商户收到的一笔付款（全部或部分）；绝不超过所付金额。\n" +
    "cancel：撤销尚未支付的退款（撤销后不再计入已退金额）。\n" +
    "{merchantKey}\n\n" +
    "  --payment 交易:日志      付款（交易哈希和日志序号，见 oriole history）\n" +
    "  --amount 金额            退款金额，例如 2.5\n" +
    "  --reason 原因            随退款保存的备注\n" +
    "  --pay                    立即从本钱包（商户收款地址）支付\n" +
    "  --idempotency-key K      安全重试：同一个键绝不会退款两次",
  "help.report":
    "用法：oriole report daily --date YYYY-MM-DD [--currency 币种] [--csv] [选项]\n\n" +
    "商户某一 UTC 日的结算：按币种列出总额、手续费、退款和净额。\n" +
    "{merchantKey}\n\n" +
    "  --csv   输出 CSV（明细和合计，基本单位）",
  "help.escrow":
    "用法：oriole escrow fund --merchant 地址 --amount 金额 --currency 币种 --order 订单\n" +
    "                         [--release-timeout 秒] [--dispute-window 秒] [选项]\n" +
    "      oriole escrow ship|release|dispute <id> [选项]\n" +
    "      oriole escrow refund <id> --amount 金额 [选项]\n" +
    "      oriole escrow offer|accept <id> --buyer-amount A --merchant-amount B [选项]\n" +
    "      oriole escrow show <id> [选项]\n\n" +
    "用于稍后交货的托管。EOA 钱包自己发送交易；通行密钥钱包签名（ERC-1271），由节点代为\n" +
    "提交：fund 为 ERC-3009 授权，其余为签名操作。EOA 的 fund 先授权再付入托管（释放超时默认 7 天，\n" +
    "争议期默认 3 天）；商户发货，可退款或提出和解；买家释放、发起争议或接受和解。",
  "history.header": "{address} 的付款记录：",
  "history.empty": "没有付款记录。",
  "history.in": "收入",
  "history.out": "支出",
  "history.self": "自转",
  "history.from": "来自",
  "history.to": "付给",
  "history.ref": "参考号 {ref}",
  "history.fee": "手续费 {fee}",
  "history.feeTransfer": "（商户手续费）",
  "history.more": "更多：oriole history {address} --cursor {cursor}",

  "help.main":
    "oriole：Oriole 命令行钱包\n\n" +
    "用法：oriole <命令> [参数] [选项]\n\n" +
    "命令：\n" +
    "  wallet create           创建新钱包（用 PIN 加密的密钥）\n" +
    "  wallet import           导入已有私钥\n" +
    "  wallet address          显示钱包地址\n" +
    "  balance [地址]          按币种显示余额\n" +
    "  pay <收款地址> <金额> <币种>   付款\n" +
    "  history [地址]          显示付款记录（最新的在前）\n" +
    "  merchant create         在节点上创建商户（管理员）\n" +
    "  offline …               离线支付：reserve、code、withdraw、sync、accept、list、settle\n" +
    "  invoice create|show|list   账单：付款 URI 和二维码（商户）\n" +
    "  refund create|show|cancel  退还商户收到的付款\n" +
    "  report daily            商户每日结算报告\n" +
    "  escrow fund|ship|release|refund|dispute|offer|accept|show   托管\n\n" +
    "运行 oriole <命令> --help 查看详情。",
  "help.wallet":
    "用法：oriole wallet <create|import|address> [选项]\n\n" +
    "  create    创建新钱包（用 PIN 加密的密钥）\n" +
    "  import    导入已有私钥\n" +
    "  address   显示钱包地址",
  "help.invoice":
    "用法：oriole invoice <create|show|list> [选项]\n\n" +
    "  create    创建账单并显示付款 URI 和二维码（商户）\n" +
    "  show      显示一张账单及其状态\n" +
    "  list      列出账单（最新的在前）",
  "help.invoice.create":
    "用法：oriole invoice create --amount 金额 --currency 币种 --description 说明 [--expires-in 秒] [--order-id 订单号] [选项]\n\n" +
    "在节点上创建账单，显示其 EIP-681 付款 URI 和任何钱包都能扫描的二维码。\n" +
    "{merchantKey}\n\n" +
    "  --amount 金额       如 12.5（最多 6 位小数）\n" +
    "  --currency 币种     {currencies}\n" +
    "  --description 说明  所售商品（最多 200 个字符）\n" +
    "  --expires-in 秒     多少秒后过期（默认 900）\n" +
    "  --order-id 订单号   您的订单号",
  "help.invoice.show": "用法：oriole invoice show <账单号> [选项]\n\n显示账单：金额、状态（待付款、部分付款、已付款、已过期）、已收金额和可退金额。\n{merchantKey}",
  "help.invoice.list":
    "用法：oriole invoice list [--status 状态] [--limit N] [--cursor C] [选项]\n\n" +
    "{merchantKey}\n\n" +
    "  --status 状态   open、partially_paid、paid 或 expired\n" +
    "  --limit N       最多 N 张账单（1 到 {maxLimit}）\n" +
    "  --cursor C      从上一页继续",
  "help.merchantKey": "商户 API 密钥取自 ORIOLE_API_KEY 或 --merchant-key-file 文件（不要在命令行上直接写密钥：shell 历史和 ps 会显示它）。",
  "help.merchant": "用法：oriole merchant create --name N --payout 地址 [选项]\n\n  create    创建商户并显示一次其 API 密钥（管理员）",
  "help.offline":
    "用法：oriole offline <reserve|code|withdraw|sync|accept|list|settle> [参数] [选项]\n\n" +
    "付款方：\n" +
    "  reserve <金额> <币种>                  在保管合约中预留离线额度（需联网）\n" +
    "  code <商户> <金额> <币种>              无需网络，签署付款码\n" +
    "  withdraw <金额> <币种>                 申请取回部分离线额度（需联网，提前 7 天）\n" +
    "  withdraw --complete <币种>             等待期满后取回（需联网）\n" +
    "商户：\n" +
    "  sync                                   从链上读取付款方的离线额度（需联网）\n" +
    "  accept <付款码>                        无需网络，校验并保存付款码\n" +
    "  list                                   显示已收取的付款码及其状态\n" +
    "  settle                                 一次性批量结算所有付款码（需联网）",
  "help.offline.reserve":
    "用法：oriole offline reserve <金额> <币种> [--deployment 文件] [选项]\n\n" +
    "把 <金额> 的 <币种> 转入 OfflineVault：离线付款码从中扣款，商户在额度内接受的付款码不会被拒付。\n" +
    "取回需提前 7 天申请。通行密钥钱包改为签署 ERC-3009 授权，由节点（--api）代为提交。\n" +
    "--deployment 文件：部署文件（默认 deployments/<chainId>.json）。",
  "help.offline.code":
    "用法：oriole offline code <商户> <金额> <币种> [--valid-for 秒] [选项]\n\n" +
    "无需网络，为 <商户> 签署付款码并打印（oriole-offline:…），供商户扫描。\n" +
    "默认有效 900 秒，可用 --valid-for 指定（最长一天）。",
  "help.offline.withdraw":
    "用法：oriole offline withdraw <金额> <币种> [--deployment 文件] [选项]\n" +
    "      oriole offline withdraw --complete <币种> [--deployment 文件] [选项]\n\n" +
    "向 OfflineVault 申请取回 <金额> 的 <币种> 离线额度。商户仍可能按上次同步的额度接受付款码，\n" +
    "因此需等待保管合约的取回延迟（7 天）后，再加 --complete 运行一次才能取回。新的申请会替换待处理的\n" +
    "申请并重新计时。欠有被拒付付款码的款项时无法取回。通行密钥钱包签署申请（ERC-1271），\n" +
    "由节点（--api）代为提交申请和完成取回。",
  "help.offline.sync":
    "用法：oriole offline sync [--deployment 文件] [选项]\n\n" +
    "从链上读取每个付款方的离线额度、欠款状态和设备密钥，供离线校验。\n" +
    "至少每 3 天同步一次：更旧的额度不可信。",
  "help.offline.accept":
    "用法：oriole offline accept <付款码> [选项]\n\n" +
    "无需网络校验付款码（签名、链、合约、币种、有效期、额度、序号），写入磁盘后再答复。",
  "help.offline.list": "用法：oriole offline list [选项]\n\n显示已收取的付款码：已接受、已结算、被拒付（超出付款方额度）或失败。",
  "help.offline.settle":
    "用法：oriole offline settle [选项]\n\n" +
    "以每批 100 个结算所有已收取的付款码（每批一笔交易，由商户钱包签名），并显示每个付款码的结果。",
  "offline.reserved": "已在 {vault} 预留 {amount} {currency} 用于离线支付\n交易：{txHash}",
  "offline.withdrawalRequested": "已申请从离线额度取回 {amount} {currency}；自 {unlockAt} 起可用 oriole offline withdraw --complete {currency} 完成\n交易：{txHash}",
  "offline.withdrawn": "已从离线额度取回 {amount} {currency}\n交易：{txHash}",
  "offline.code": "向 {merchant} 支付 {amount} {currency} 的付款码（以二维码出示）：\n{code}",
  "offline.synced": "已在区块 {block} 同步 {payers} 个离线额度（{defaulted} 个欠款）",
  "offline.accepted": "已接受来自 {payer} 的 {amount} {currency}",
  "offline.none": "尚未收取离线付款码",
  "offline.settled": "{total} 个付款码中 {settled} 个已结算，共 {txs} 笔交易",
  "error.offline_not_synced": "尚无离线数据：请在联网时运行 `oriole offline sync`（商户）或 `oriole offline reserve`（付款方）",
  "error.invalid_offline_code": "这不是有效的离线付款码",
  "error.offline_bad_signature": "付款码的签名不是付款方的：请拒绝",
  "error.offline_allowance_exceeded": "付款方剩余离线额度为 {left}：请拒绝该付款码",
  "error.offline_payer_defaulted": "付款方因被拒付的付款码欠款 {debt}：请拒绝该付款码",
  "error.offline_expired": "付款码已过期",
  "error.offline_nonce_seen": "已接受过该付款方相同序号的付款码",
  "error.offline_duplicate": "该付款码已收取",
  "error.offline_stale_sync": "上次同步太久：请先运行 `oriole offline sync`",
  "error.withdrawal_exceeds_reserve": "仅预留了 {reserved} 个基本单位",
  "error.no_withdrawal": "尚未申请取回：请先运行 oriole offline withdraw <金额> <币种>",
  "error.withdrawal_locked": "自 {unlockAt} 起才能完成取回",
  "error.offline_payer_in_default": "离线额度因被拒付的付款码欠款 {debt} 个基本单位：请先再次预留以偿还",
  "help.merchant.create":
    "用法：oriole merchant create --name N --payout 地址 [--admin-token-file 文件] [选项]\n\n" +
    "在节点上创建商户并显示其 API 密钥。密钥只显示这一次\n" +
    "（节点只保存其哈希）：请立即保存。\n\n" +
    "  --name N                 商户名称（1 到 100 个字符）\n" +
    "  --payout 地址            商户的收款地址\n" +
    "  --admin-token-file 文件  节点的管理员令牌（默认：ORIOLE_ADMIN_TOKEN，\n" +
    "                           否则 .oriole/node-data/admin-token，即 npm start 保存之处）",
  "help.wallet.create":
    "用法：oriole wallet create [--passkey] [--force] [选项]\n\n" +
    "生成新密钥，并用 PIN 加密保存\n" +
    "（PIN 不回显、输入两次，或取自 ORIOLE_PIN；至少 6 个字符）。\n\n" +
    "  --passkey  通行密钥智能账户（与网页钱包相同），使用软件 P-256 设备密钥；\n" +
    "             PIN 代替手机的生物识别，付款经节点的中继发送（默认：secp256k1 密钥）\n" +
    "  --force    替换已有的密钥库（未备份的旧密钥将丢失）",
  "help.wallet.import":
    "用法：oriole wallet import [--force] [选项]\n\n" +
    "导入已有私钥（不回显输入，或取自 ORIOLE_PRIVATE_KEY，绝不从命令行读取），\n" +
    "并用 PIN 加密保存（输入两次，或取自 ORIOLE_PIN）。\n\n" +
    "  --force   替换已有的密钥库（未备份的旧密钥将丢失）",
  "help.wallet.address": "用法：oriole wallet address [选项]\n\n显示钱包地址（无需 PIN）。",
  "help.balance":
    "用法：oriole balance [地址] [选项]\n\n" +
    "显示 Oriole 节点索引到的各币种余额。\n" +
    "不指定地址时显示本钱包的余额。",
  "help.pay":
    "用法：oriole pay <收款地址> <金额> <币种> [--reference R] [选项]\n" +
    "      oriole pay <收款请求 URI> [选项]\n\n" +
    "向地址 <收款地址> 支付 <金额>（十进制数，如 12.5，最多 6 位小数）的 <币种>\n" +
    "（{currencies}），或按 EIP-681 收款请求付款。需要输入 PIN（或取自 ORIOLE_PIN），\n" +
    "发送前检查余额，并等待付款上链。通行密钥钱包签署意图并经节点的中继付款（另付中继费）。\n\n" +
    "  --reference R   bytes32 付款参考号（0x 加 64 位十六进制）",
  "help.history":
    "用法：oriole history [地址] [--limit N] [--cursor C] [选项]\n\n" +
    "显示付款记录，最新的在前。不指定地址时显示本钱包的记录。\n\n" +
    "  --limit N    最多显示 N 条（1 到 {maxLimit}）\n" +
    "  --cursor C   从上一页继续",
  "help.options":
    "选项：\n" +
    "  --json            在标准输出上输出机器可读的 JSON（错误也是）\n" +
    "  --keystore PATH   密钥库文件（ORIOLE_KEYSTORE；默认 ~/.oriole/keystore.json）\n" +
    "  --api URL         Oriole 节点 API（ORIOLE_API_URL；默认 http://127.0.0.1:8787）\n" +
    "  --rpc URL         链的 JSON-RPC（ORIOLE_RPC_URL；默认 http://127.0.0.1:8545）\n" +
    "  --lang en|zh      消息语言（默认取自 LC_ALL / LANG）\n" +
    "  -h, --help        显示帮助\n\n" +
    "退出码：0 成功，1 出错，2 用法错误。",
};
