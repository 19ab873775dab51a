import { Button, Stack } from '@mantine/core';
import { Link } from '@tanstack/react-router';
import { useTranslation } from 'react-i18next';
import { Empty } from '../components/States.js';

export function NotFoundPage() {
  const { t } = useTranslation();
  return (
    <Stack align="center">
      <Empty title={t('notfound.title')}>{t('notfound.help')}</Empty>
      <Button component={Link} to="/namespaces" variant="light">
        {t('nav.namespaces')}
      </Button>
    </Stack>
  );
}
