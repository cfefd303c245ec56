export default defineAppConfig({
  pages: ['pages/index/index', 'pages/cases/index', 'pages/inbox/index'],
  subPackages: [
    { root: 'pages-cases/', pages: ['apply/index', 'detail/index', 'link/index', 'rate/index', 'feedback/index', 'feedback/detail/index'] },
  ],
  window: {
    backgroundTextStyle: 'light',
    navigationBarBackgroundColor: '#1a56c4',
    navigationBarTitleText: '临江掌上办事',
    navigationBarTextStyle: 'white',
  },
});
