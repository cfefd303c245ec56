export default definePageConfig({
  navigationBarTitleText: '临江掌上办事',
});
