export default defineAppConfig({
  pages: ['pages/index/index'],
  subPackages: [
    // From finding a matter to being served at the hall: guide, booking, appointments, queue number.
    { root: 'pages-service/', pages: ['guide/index', 'book/index', 'appointments/index', 'appointment/index', 'queue/index'] },
  ],
  window: {
    backgroundTextStyle: 'light',
    navigationBarBackgroundColor: '#1a56c4',
    navigationBarTitleText: '临江掌上办事',
    navigationBarTextStyle: 'white',
  },
});
