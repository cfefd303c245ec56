export default definePageConfig({ navigationBarTitleText: '关联窗口办件' });
