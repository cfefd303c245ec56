export default defineAppConfig({
  pages: ['pages/index/index', 'pages/cases/index', 'pages/me/index', 'pages/inbox/index'],
  subPackages: [
    // From finding a matter to being served at the hall: guide, booking, appointments, queue number.
    { root: 'pages-service/', pages: ['guide/index', 'book/index', 'appointments/index', 'appointment/index', 'queue/index'] },
    // Applying and following a case: apply, detail, link a window-filed case, rate, feedback.
    { root: 'pages-cases/', pages: ['apply/index', 'detail/index', 'link/index', 'rate/index', 'feedback/index', 'feedback/detail/index'] },
    // 我的: real-name binding, proxy grants, the public figures (a subpackage: WeChat's 2 MB main-package limit).
    { root: 'pages-me', pages: ['identity/index', 'proxies/index', 'figures/index'] },
  ],
  window: {
    backgroundTextStyle: 'light',
    navigationBarBackgroundColor: '#1a56c4',
    navigationBarTitleText: '临江掌上办事',
    navigationBarTextStyle: 'white',
  },
  // H5 only (an app.json does not know the key): pages appear at once instead of sliding in (no motion to follow,
  // and screenshots of a settled page).
  ...(process.env.TARO_ENV === 'h5' ? { animation: false } : {}),
  tabBar: {
    color: '#4a4f57',
    selectedColor: '#1a56c4',
    backgroundColor: '#ffffff',
    borderStyle: 'black',
    list: [
      { pagePath: 'pages/index/index', text: '首页' },
      { pagePath: 'pages/cases/index', text: '我的办件' },
      { pagePath: 'pages/me/index', text: '我的' },
    ],
  },
});
