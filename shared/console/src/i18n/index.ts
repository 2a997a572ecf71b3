// Two languages, zh-CN and en: the visible toggle stores the choice in localStorage; the
// default follows the browser's language. `ZH` is typed against `EN`, so a missing key does
// not compile.
import { CODE_MESSAGES } from './codes';

export type Lang = 'en' | 'zh';

const EN = {
  brand: 'Domain market',
  skip: 'Skip to content',
  mainNav: 'Main',
  switchLangLabel: 'Switch language to Chinese',
  loading: 'Loading…',
  navMarket: 'Market', navCart: 'Cart', navOrders: 'Orders', navPushes: 'Pushes', navSeller: 'My domains',
  navProceeds: 'Proceeds', navNotifications: 'Notifications', navAdmin: 'Operator',
  listingTitle: 'Listing', orderTitle: 'Order',
  signIn: 'Sign in', signOut: 'Sign out', signedInAs: 'Signed in as', needSignIn: 'Please sign in to see this page.',
  devSignIn: 'Local sign-in', devExplained: 'Local runner: pick a demo account or type an account id.',
  demoSeller: 'seller', demoBuyer: 'buyer', demoUnverified: 'not verified', demoOperator: 'operator',
  accountId: 'Account id', asOperator: 'with the operator (admin) role',
  cognitoExplained: 'You will sign in on the secure hosted page and come back here.', signInCognito: 'Sign in with your account',
  timeUp: 'time is up', buyableNow: 'open for orders', windowClosed: 'payment window closed', expired: 'expired',
  tld: 'TLD', anyTld: 'Any', minPrice: 'Min price (¥)', maxPrice: 'Max price (¥)', keyword: 'Keyword', keywordHint: 'part of the name',
  sort: 'Sort', sortNewest: 'Newest', sortPriceAsc: 'Price: low to high', sortPriceDesc: 'Price: high to low', search: 'Search',
  noListings: 'No listing matches.', loadMore: 'Load more', filter: 'Filter',
  charset: 'Characters', anyCharset: 'Any', csDigits: 'Digits', csLetters: 'Letters', csAlnum: 'Letters and digits',
  csHyphen: 'With a hyphen', csIdn: 'Chinese / IDN', csPinyin: 'Pinyin',
  syllables: 'Pinyin syllables', anySyllables: 'Any', syl1: 'One (单拼)', syl2: 'Two (双拼)', syl3: 'Three (三拼)',
  minLen: 'Shortest', maxLen: 'Longest', startsWith: 'Starts with', endsWith: 'Ends with', contains: 'Contains',
  excludes: 'Without the characters', expiresAfter: 'Domain expires after', expiresBefore: 'Domain expires before',
  moreFilters: 'More filters', facets: 'Counts', facetLength: 'Length',
  sortRelevance: 'Best match', sortLength: 'Shortest first', sortEndingSoon: 'Listing ends soonest', sortExpiry: 'Domain expires soonest',
  matches: '{n} listings', matchesOne: 'One listing', matchesMore: 'More than {n} listings', lengthN: '{n} characters', syllablesN: '{n} syllables',
  domainExpiresIn: 'Domain expires {date} (in {days} days)', domainExpires: 'Domain expires',
  addToCart: 'Add to cart', inCart: 'In cart ✓', goToCart: 'Go to cart', backToMarket: 'Back to the market',
  coolingDown: 'Cooling down:', opensAt: 'Opens for orders at', buyableAt: 'Orderable from',
  coolDownExplained: 'A new or changed listing cannot be ordered for 3 minutes (L4).',
  changeRestartsCoolDown: 'Saving a change starts a new 3-minute cool-down (L4).',
  ownListing: 'This is your own listing: you cannot buy it (O1).',
  status: 'Status', seller: 'Seller', endsAt: 'Ends', description: 'Description', price: 'Price', domain: 'Domain',
  cartEmpty: 'Your cart is empty.', cartTotal: 'Total:', remove: 'Remove',
  o2Explained: 'One purchase takes at most 500 domains from at most 40 sellers, 50 per seller (O2). Your cart is split into these payment groups; each becomes one order, paid separately.',
  groupTitle: 'Payment group {n} of {of}', groupFacts: '{domains} domain(s) · {sellers} seller(s) · {total}',
  iAmHuman: 'I am human', captchaSandbox: 'Local sandbox check.', captchaCloud: 'Complete the human check.', captchaUnavailable: 'The human check could not load; reload the page to try again.',
  captchaFirst: 'Please complete the human check first.',
  placeOrder: 'Place order', ordersPlaced: 'Orders placed', payWithin: 'Pay each order within 10 minutes (O3).',
  rejectedTitle: 'Could not be ordered', order: 'Order', payBy: 'Pay by', payWithinLeft: 'Time left to pay:', o3Short: '(server time, O3)',
  o3Explained: 'An order must be paid within 10 minutes; after that it fails and the domains are freed (O3).',
  unpaidOrders: 'Unpaid', allOrders: 'All', noOrders: 'No orders.',
  pay: 'Pay', payAmount: 'Pay {amount}', refresh: 'Refresh status', cancelOrder: 'Cancel order', confirmCancel: 'Cancel this order?', details: 'Details',
  total: 'Total', placedAt: 'Placed', paidAt: 'Paid', paymentFailed: 'Payment failed', perDomain: 'Per domain', refund: 'Refund',
  seeMyDomains: 'See my domains',
  pushTab_received: 'Received', pushTab_sent: 'Sent', pushTab_new: 'New push', pushTab_security: 'Security password',
  noPushes: 'No pushes.', from: 'From', to: 'To', transferFee: 'Registry transfer fee', amountDue: 'You pay', buyerPays: 'Buyer pays',
  lock60: '60-day transfer lock', lockYes: 'Locked: after payment the registrant changes at once and the domain cannot move to another registrar for 60 days; the seller is paid at once (P9).',
  lockNo: 'Not locked: after payment the seller confirms the change of registrant and is paid then; unconfirmed after 7 days the change is forced with the 60-day lock; the buyer may force it at any time (P9).',
  lockYesShort: 'Lock 60 days', lockNoShort: 'No lock',
  expiresIn: 'Expires in', confirmBy: 'Seller confirms by', lockedUntil: 'Transfer lock until', message: 'Message', endReason: 'Ended because',
  acceptWillPay: 'Accepting means paying {amount}: price {price} + registry transfer fee {fee} (P8).',
  securityPassword: 'Security password', securityPasswordHint: 'Required once you have set one (P12).',
  accept: 'Accept', reject: 'Reject', withdraw: 'Withdraw', confirmChange: 'Confirm change of registrant', forceChange: 'Force the change now',
  forceExplained: 'Forcing the change of registrant applies the 60-day transfer lock (P9).',
  confirmExplained: 'The buyer has paid. Confirm the change of registrant to receive the money (P9).',
  domainsToPush: 'Domains to push', moreDomains: 'Other domains', moreDomainsHint: 'Comma-separated, ASCII or Unicode.',
  noFreeDomains: 'No domain free to push.', buyerAccount: 'Buyer account id', askingPrice: 'Asking price (¥)',
  pushPriceHint: 'One price for the whole push; 0 is allowed (P1).', buyerEmail: 'Buyer email (optional)',
  pushFeeNote: 'No platform fee on a push: you receive 100% (P8). A push is valid for 7 days (P5).',
  publishPush: 'Publish push', pushCreated: 'Push {id} sent to {buyer}.',
  securityExplained: 'The security password protects publishing and accepting pushes (P12).',
  currentPassword: 'Current password', currentPasswordHint: 'Only to change an existing one.', newPassword: 'New password', passwordLength: '8 to 64 characters.',
  save: 'Save', saved: 'Saved.', saveChanges: 'Save changes', cancel: 'Cancel',
  myDomains: 'My domains', myListings: 'My listings', noDomains: 'No domains.', noMyListings: 'No listings yet.',
  expires: 'Expires', inTrade: 'In a trade', notInTrade: 'Not in a trade', transferOutLocked: 'Transfer-out locked',
  listForSale: 'List for sale', newListing: 'New listing', editListing: 'Edit listing: {domain}', publishListing: 'Publish listing',
  feeNote: 'A 1% fee is deducted from the sale (L8).', endsAtHint: 'Optional: when the listing ends.',
  listingPublished: '{domain} listed at {price}.', listingChanged: '{domain} changed: {price}.', buyableIn: 'Orderable in', viewListing: 'View listing',
  edit: 'Edit', delist: 'Delist', confirmDelist: 'Delist this listing?', takenDownReason: 'Taken down by an operator:',
  balances: 'Balances', available: 'Available', frozen: 'Frozen', payingOut: 'Being paid out',
  s4Explained: 'Proceeds are frozen until the settlement period ends, then available to pay out (S4).',
  payouts: 'Payouts', amount: 'Amount (¥)', allAvailable: 'all available', payoutHint: 'At least 0.10; empty pays out all available.',
  requestPayout: 'Request payout', payoutRequested: 'Payout of {amount} requested.', noPayouts: 'No payouts yet.', ledger: 'Ledger', noLedger: 'No entries yet.',
  all: 'All', unread: 'Unread', noNotifications: 'No notifications.', markRead: 'Mark read',
  adminAccounts: 'Accounts', adminDomains: 'Domains', adminEvents: 'Domain events', adminFees: 'Fees', adminTakedowns: 'Takedowns', adminTransferOut: 'Transfer-out check',
  realNameVerified: 'Real-name verified', realName: 'Real name', payoutAccount: 'Alipay payout account', email: 'Email', enterprise: 'Enterprise', locale: 'Language',
  owner: 'Owner', registeredAt: 'Registered at', expiresAt: 'Expires at', flags: 'Flags', eventType: 'Event',
  forRenewed: 'For “renewed”.', forOwnerChanged: 'For “owner_changed”.', send: 'Send', check: 'Check',
  feeKind: 'Trade kind', feeFixed: 'Fixed price', feePush: 'Push', rate: 'Rate', rateHint: '0.01 = 1%', until: 'Until',
  what: 'What', listing: 'Listing', push: 'Push', reason: 'Reason', reasonShownToSeller: 'Shown to the seller (M3).', takeDown: 'Take down', done: 'Done.',
  st_active: 'active', st_sold: 'sold', st_ended: 'ended',
  // Why a listing ended (end_reason) and why a domain cannot leave (transfer_out_locked_reason).
  end_delisted: 'delisted by the seller', end_ends_at_passed: 'its end date passed', end_domain_expired: 'the domain expired',
  end_taken_down: 'taken down by the operator', end_deleted: 'the domain was deleted', end_transfer_out_started: 'the domain is leaving the registrar',
  end_owner_changed: 'the domain changed hands', end_blacklisted: 'the domain was blacklisted', end_restricted: 'the domain was restricted',
  end_transfer_prohibited: 'transfers of the domain are prohibited',
  lock_in_trade: 'listed or in a trade', lock_transfer_locked: 'within its 60-day transfer lock',
  st_awaiting_payment: 'awaiting payment', st_processing: 'processing', st_paid: 'paid', st_completed: 'completed', st_failed: 'failed',
  st_expired: 'expired', st_cancelled: 'cancelled', st_pending: 'pending', st_accepted: 'accepted',
  st_awaiting_seller_confirmation: 'awaiting seller confirmation', st_withdrawn: 'withdrawn', st_rejected: 'rejected',
  st_taken_down: 'taken down', st_succeeded: 'succeeded',
  ledger_payment: 'payment', ledger_purchase: 'purchase', ledger_sale: 'sale', ledger_fee: 'fee', ledger_refund: 'refund',
  ledger_settlement: 'settlement', ledger_transfer_fee: 'transfer fee', ledger_clawback: 'clawback', ledger_payout: 'payout',
  ledger_payout_returned: 'payout returned', ledger_deposit: 'deposit',
};

export type Key = keyof typeof EN;

const ZH: Record<Key, string> = {
  brand: '域名交易市场',
  skip: '跳到正文',
  mainNav: '主导航',
  switchLangLabel: 'Switch language to English',
  loading: '加载中…',
  navMarket: '市场', navCart: '购物车', navOrders: '订单', navPushes: 'Push', navSeller: '我的域名',
  navProceeds: '收益', navNotifications: '通知', navAdmin: '运营',
  listingTitle: '一口价', orderTitle: '订单',
  signIn: '登录', signOut: '退出', signedInAs: '当前账户', needSignIn: '请登录后查看此页面。',
  devSignIn: '本地登录', devExplained: '本地环境：选择一个演示账户，或输入账户 ID。',
  demoSeller: '卖家', demoBuyer: '买家', demoUnverified: '未实名', demoOperator: '运营',
  accountId: '账户 ID', asOperator: '以运营（admin）角色登录',
  cognitoExplained: '您将在安全的托管登录页完成登录，然后返回此处。', signInCognito: '使用账户登录',
  timeUp: '已到时', buyableNow: '可下单', windowClosed: '支付时限已过', expired: '已过期',
  tld: '后缀', anyTld: '全部', minPrice: '最低价（¥）', maxPrice: '最高价（¥）', keyword: '关键词', keywordHint: '域名中包含的字符',
  sort: '排序', sortNewest: '最新', sortPriceAsc: '价格从低到高', sortPriceDesc: '价格从高到低', search: '搜索',
  noListings: '没有符合条件的一口价。', loadMore: '加载更多', filter: '筛选',
  charset: '字符类型', anyCharset: '不限', csDigits: '纯数字', csLetters: '纯字母', csAlnum: '杂米（字母数字）',
  csHyphen: '含连字符', csIdn: '中文域名', csPinyin: '拼音',
  syllables: '拼音音节', anySyllables: '不限', syl1: '单拼', syl2: '双拼', syl3: '三拼',
  minLen: '最短', maxLen: '最长', startsWith: '开头是', endsWith: '结尾是', contains: '包含',
  excludes: '不含字符', expiresAfter: '域名到期晚于', expiresBefore: '域名到期早于',
  moreFilters: '更多筛选', facets: '分布', facetLength: '长度',
  sortRelevance: '最相关', sortLength: '最短优先', sortEndingSoon: '即将下架', sortExpiry: '域名最早到期',
  matches: '共 {n} 个', matchesOne: '共 1 个', matchesMore: '超过 {n} 个', lengthN: '{n} 个字符', syllablesN: '{n} 个音节',
  domainExpiresIn: '域名 {date} 到期（{days} 天后）', domainExpires: '域名到期',
  addToCart: '加入购物车', inCart: '已加入购物车 ✓', goToCart: '去购物车', backToMarket: '返回市场',
  coolingDown: '冷静期：', opensAt: '可下单时间', buyableAt: '可下单时间',
  coolDownExplained: '新发布或修改后的一口价在 3 分钟内不能下单（L4）。',
  changeRestartsCoolDown: '保存修改后将重新开始 3 分钟冷静期（L4）。',
  ownListing: '这是您自己的一口价，不能购买（O1）。',
  status: '状态', seller: '卖家', endsAt: '结束时间', description: '描述', price: '价格', domain: '域名',
  cartEmpty: '购物车是空的。', cartTotal: '合计：', remove: '移除',
  o2Explained: '一次购买最多 500 个域名、最多 40 个卖家、每个卖家最多 50 个（O2）。购物车将按以下支付分组拆分，每组生成一个订单，分别支付。',
  groupTitle: '支付分组 {n} / {of}', groupFacts: '{domains} 个域名 · {sellers} 个卖家 · {total}',
  iAmHuman: '我是真人', captchaSandbox: '本地沙箱验证。', captchaCloud: '请完成人机验证。', captchaUnavailable: '人机验证未能加载，请刷新页面重试。',
  captchaFirst: '请先完成人机验证。',
  placeOrder: '提交订单', ordersPlaced: '已生成订单', payWithin: '请在 10 分钟内完成每个订单的支付（O3）。',
  rejectedTitle: '无法下单的域名', order: '订单', payBy: '支付截止', payWithinLeft: '剩余支付时间：', o3Short: '（以服务器时间为准，O3）',
  o3Explained: '订单须在 10 分钟内支付，超时订单失败，域名重新开放（O3）。',
  unpaidOrders: '待支付', allOrders: '全部', noOrders: '没有订单。',
  pay: '去支付', payAmount: '支付 {amount}', refresh: '刷新状态', cancelOrder: '取消订单', confirmCancel: '确定取消该订单？', details: '详情',
  total: '金额', placedAt: '下单时间', paidAt: '支付时间', paymentFailed: '支付失败', perDomain: '各域名结果', refund: '退款',
  seeMyDomains: '查看我的域名',
  pushTab_received: '收到的', pushTab_sent: '发出的', pushTab_new: '发起 Push', pushTab_security: '安全密码',
  noPushes: '没有 push。', from: '来自', to: '发给', transferFee: '注册局过户费', amountDue: '应付金额', buyerPays: '买家应付',
  lock60: '60 天转移锁定', lockYes: '锁定：付款后立即强制过户，域名 60 天内不能转出到其他注册商；款项立即结算给卖家（P9）。',
  lockNo: '不锁定：付款后由卖家确认过户，确认后结算款项；7 天内未确认则强制过户并锁定 60 天；买家可随时强制过户（P9）。',
  lockYesShort: '锁定 60 天', lockNoShort: '不锁定',
  expiresIn: '剩余有效期', confirmBy: '卖家确认截止', lockedUntil: '转移锁定至', message: '留言', endReason: '结束原因',
  acceptWillPay: '接收需支付 {amount}：价格 {price} + 注册局过户费 {fee}（P8）。',
  securityPassword: '安全密码', securityPasswordHint: '设置过安全密码后必填（P12）。',
  accept: '接收', reject: '拒绝', withdraw: '撤回', confirmChange: '确认过户', forceChange: '立即强制过户',
  forceExplained: '强制过户后域名将被锁定 60 天，不能转出（P9）。',
  confirmExplained: '买家已付款。确认过户后您将收到款项（P9）。',
  domainsToPush: '要 push 的域名', moreDomains: '其他域名', moreDomainsHint: '用逗号分隔，支持中文或 punycode。',
  noFreeDomains: '没有可 push 的域名。', buyerAccount: '买家账户 ID', askingPrice: '价格（¥）',
  pushPriceHint: '整个 push 一个价格，可以为 0（P1）。', buyerEmail: '买家邮箱（可选）',
  pushFeeNote: 'Push 不收平台佣金，卖家获得 100%（P8）。Push 有效期 7 天（P5）。',
  publishPush: '发起 push', pushCreated: 'Push {id} 已发送给 {buyer}。',
  securityExplained: '安全密码用于保护发起和接收 push（P12）。',
  currentPassword: '当前密码', currentPasswordHint: '仅修改已有密码时需要。', newPassword: '新密码', passwordLength: '8 到 64 个字符。',
  save: '保存', saved: '已保存。', saveChanges: '保存修改', cancel: '取消',
  myDomains: '我的域名', myListings: '我的一口价', noDomains: '没有域名。', noMyListings: '还没有一口价。',
  expires: '到期', inTrade: '交易中', notInTrade: '未在交易', transferOutLocked: '转出已锁定',
  listForSale: '出售', newListing: '发布一口价', editListing: '修改一口价：{domain}', publishListing: '发布',
  feeNote: '成交后收取 1% 佣金（L8）。', endsAtHint: '可选：一口价结束时间。',
  listingPublished: '{domain} 已以 {price} 挂牌。', listingChanged: '{domain} 已修改：{price}。', buyableIn: '距可下单', viewListing: '查看一口价',
  edit: '修改', delist: '下架', confirmDelist: '确定下架该一口价？', takenDownReason: '已被运营下架：',
  balances: '余额', available: '可提现', frozen: '冻结中', payingOut: '提现中',
  s4Explained: '收益在结算期内冻结，结算期结束后可提现（S4）。',
  payouts: '提现', amount: '金额（¥）', allAvailable: '全部可提现金额', payoutHint: '至少 0.10；留空则提取全部可提现金额。',
  requestPayout: '申请提现', payoutRequested: '已申请提现 {amount}。', noPayouts: '还没有提现记录。', ledger: '账目明细', noLedger: '暂无记录。',
  all: '全部', unread: '未读', noNotifications: '没有通知。', markRead: '标为已读',
  adminAccounts: '账户', adminDomains: '域名', adminEvents: '域名事件', adminFees: '费率', adminTakedowns: '下架处理', adminTransferOut: '转出检查',
  realNameVerified: '已实名认证', realName: '实名', payoutAccount: '支付宝收款账户', email: '邮箱', enterprise: '企业账户', locale: '语言',
  owner: '持有人', registeredAt: '注册时间', expiresAt: '到期时间', flags: '状态标记', eventType: '事件',
  forRenewed: '用于“renewed”。', forOwnerChanged: '用于“owner_changed”。', send: '发送', check: '检查',
  feeKind: '交易类型', feeFixed: '一口价', feePush: 'Push', rate: '费率', rateHint: '0.01 = 1%', until: '截止',
  what: '对象', listing: '一口价', push: 'Push', reason: '原因', reasonShownToSeller: '将展示给卖家（M3）。', takeDown: '下架', done: '完成。',
  st_active: '在售', st_sold: '已售', st_ended: '已结束',
  end_delisted: '卖家已下架', end_ends_at_passed: '已到结束时间', end_domain_expired: '域名已到期',
  end_taken_down: '已被平台下架', end_deleted: '域名已删除', end_transfer_out_started: '域名正在转出',
  end_owner_changed: '域名持有人已变更', end_blacklisted: '域名已被列入黑名单', end_restricted: '域名已被限制',
  end_transfer_prohibited: '域名禁止转移',
  lock_in_trade: '正在出售或交易中', lock_transfer_locked: '处于60天转移锁定期',
  st_awaiting_payment: '待支付', st_processing: '处理中', st_paid: '已支付', st_completed: '已完成', st_failed: '失败',
  st_expired: '已过期', st_cancelled: '已取消', st_pending: '待处理', st_accepted: '已接收',
  st_awaiting_seller_confirmation: '待卖家确认', st_withdrawn: '已撤回', st_rejected: '已拒绝',
  st_taken_down: '已下架', st_succeeded: '成功',
  ledger_payment: '付款', ledger_purchase: '购买', ledger_sale: '销售', ledger_fee: '佣金', ledger_refund: '退款',
  ledger_settlement: '结算', ledger_transfer_fee: '过户费', ledger_clawback: '追回', ledger_payout: '提现',
  ledger_payout_returned: '提现退回', ledger_deposit: '保证金',
};

export const DICTS: Record<Lang, Record<Key, string>> = { en: EN, zh: ZH };

const LANG_KEY = 'market.lang';
let current: Lang = initialLang();
const listeners = new Set<() => void>();

export function detectLang(stored: string | null, browser: readonly string[]): Lang {
  if (stored === 'en' || stored === 'zh') return stored;
  for (const l of browser) {
    const x = l.toLowerCase();
    if (x.startsWith('zh')) return 'zh';
    if (x.startsWith('en')) return 'en';
  }
  return 'en';
}

function initialLang(): Lang {
  let stored: string | null = null;
  try {
    stored = localStorage.getItem(LANG_KEY);
  } catch {
    /* no storage */
  }
  const nav = typeof navigator !== 'undefined' ? (navigator.languages?.length ? navigator.languages : [navigator.language]) : [];
  return detectLang(stored, nav);
}

export function lang(): Lang {
  return current;
}

export function setLang(l: Lang): void {
  current = l;
  try {
    localStorage.setItem(LANG_KEY, l);
  } catch {
    /* no storage */
  }
  listeners.forEach((f) => f());
}

export function onLangChange(f: () => void): void {
  listeners.add(f);
}

export function t(key: Key): string {
  return DICTS[current][key] ?? key;
}

/** A key built at run time (a status, a ledger kind): the text, or `fallback`. */
export function tOr(key: string, fallback: string): string {
  return (DICTS[current] as Record<string, string>)[key] ?? fallback;
}

export function fmt(key: Key, vars: Record<string, string | number>): string {
  return t(key).replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k] ?? `{${k}}`));
}

/** The human message for a problem code in the current language. */
export function codeMessage(code: string, l: Lang = current): string {
  const m = CODE_MESSAGES[code] ?? CODE_MESSAGES.UNKNOWN;
  return l === 'zh' ? m.zh : m.en;
}
