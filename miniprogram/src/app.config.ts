export default defineAppConfig({
  pages: ['pages/index/index'],
  window: {
    backgroundTextStyle: 'light',
    navigationBarBackgroundColor: '#1a56c4',
    navigationBarTitleText: '临江掌上办事',
    navigationBarTextStyle: 'white',
  },
});
