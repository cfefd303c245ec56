import { Text, View } from '@tarojs/components';
import PageShell from '../../components/PageShell';
import './index.scss';

// A stand-in so the tab bar has its page; the cases list (issue #13, cases/inbox part) replaces this file.
export default function Cases() {
  return (
    <PageShell className="cases-stub">
      <View className="gh-card">
        <Text className="gh-card-title">我的办件</Text>
        <Text className="gh-muted">办件列表正在建设中。</Text>
      </View>
    </PageShell>
  );
}
