export default defineAppConfig({
  pages: ['pages/index/index', 'pages/cases/index', 'pages/inbox/index'],
  subPackages: [
    // From finding a matter to being served at the hall: guide, booking, appointments, queue number.
    { root: 'pages-service/', pages: ['guide/index', 'book/index', 'appointments/index', 'appointment/index', 'queue/index'] },
    // Applying and following a case: apply, detail, link a window-filed case, rate, feedback.
    { root: 'pages-cases/', pages: ['apply/index', 'detail/index', 'link/index', 'rate/index', 'feedback/index', 'feedback/detail/index'] },
  ],
  window: {
    backgroundTextStyle: 'light',
    navigationBarBackgroundColor: '#1a56c4',
    navigationBarTitleText: '临江掌上办事',
    navigationBarTextStyle: 'white',
  },
});
