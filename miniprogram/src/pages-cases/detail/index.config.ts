export default definePageConfig({ navigationBarTitleText: '办件详情' });
