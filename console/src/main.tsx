import React from 'react';
import ReactDOM from 'react-dom/client';
import { BrowserRouter } from 'react-router-dom';
import 'tdesign-react/es/style/index.css';
import './theme.css';
import App from './App';
import { api } from './api';
import { sessionService } from './session/session';
import { SessionProvider } from './session/SessionContext';

const service = sessionService(api);

ReactDOM.createRoot(document.getElementById('root')!).render(
  <React.StrictMode>
    <BrowserRouter basename="/console">
      <SessionProvider service={service}>
        <App />
      </SessionProvider>
    </BrowserRouter>
  </React.StrictMode>,
);
